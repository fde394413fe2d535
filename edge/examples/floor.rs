//! The floor under the edge's figures: the same HTTP stack as `mirrorvane-edge` (hyper's auto connection
//! builder with vectored writes, one single-threaded tokio runtime per worker thread sharing one listener)
//! answering every request with a fixed body and no decision. Its server CPU per request under the load test is
//! what HTTP and the kernel cost on the machine; the edge's figure minus this one is what Mirrorvane adds.
//!
//!     cargo run --release -p mirrorvane-edge --example floor -- [--listen ADDR] [--body-bytes N] [--workers N]
//!
//! `benches/load/floor.sh` runs it under the load test's request mix.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut body_bytes = 7_300usize;
    let mut workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = value,
            "--body-bytes" => body_bytes = value.parse()?,
            "--workers" => workers = value.parse()?,
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    // Mirrorlist-like text: lines of URL length.
    let line = b"https://mirror.example.org/pub/fedora/linux/releases/41/Everything/x86_64/os/\n";
    let body = Bytes::from(line.iter().copied().cycle().take(body_bytes).collect::<Vec<u8>>());

    let listener = std::net::TcpListener::bind(&listen)?;
    listener.set_nonblocking(true)?;
    println!("Listening on http://{}", listener.local_addr()?);
    let threads: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (listener, body) = (listener.try_clone(), body.clone());
            std::thread::spawn(move || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                // Inside the runtime: registering the socket needs its reactor.
                runtime.block_on(async move { serve(tokio::net::TcpListener::from_std(listener?)?, body).await })
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a worker thread panicked")??;
    }
    Ok(())
}

async fn serve(listener: tokio::net::TcpListener, body: Bytes) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |_req| {
                let response = Response::builder()
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(Full::new(body.clone()));
                async move { Ok::<_, Infallible>(response.expect("static headers are valid")) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().writev(true);
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
