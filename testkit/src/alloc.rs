//! A global allocator that counts the allocations of the current thread, for tests that prove a path allocates
//! nothing: `#[global_allocator] static A: Counting = Counting;` in the test binary, then [`allocations`] before
//! and after. Only the test's own thread is counted, so the harness's threads do not disturb the figure.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts, then forwards to the system allocator.
#[derive(Debug)]
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a thread-local cell.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made so far by the calling thread (with [`Counting`] installed; 0 otherwise).
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}
