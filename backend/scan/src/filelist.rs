//! Which files of a changed directory to record (MirrorManager's `short_filelist`).

use super::listing::ListedFile;

/// How many files a package-heavy directory keeps.
const KEEP_NEWEST: usize = 3;
/// More files than this of one kind make a directory package-heavy.
const HEAVY: usize = 10;

/// The files to record for a directory.
///
/// MirrorManager's exact condition: if the directory holds **more than 10** files of **any one** of the
/// kinds `.html`, `.rpm`, `.hdr`, `.drpm` (each kind counted separately, by suffix), only the 3 newest files
/// of **all** its files are kept — newest by ctime, ties broken by the greater name (Python sorted
/// `(ctime, name, size)` tuples and kept the last three). Otherwise every file is kept. The mirror crawler
/// then checks only these files. The result is sorted by name.
pub fn short_filelist(files: &[ListedFile]) -> Vec<ListedFile> {
    let count = |suffix: &str| files.iter().filter(|f| f.name.ends_with(suffix)).count();
    let heavy = [".html", ".rpm", ".hdr", ".drpm"].iter().any(|s| count(s) > HEAVY);
    let mut kept: Vec<ListedFile> = if heavy {
        let mut by_age: Vec<&ListedFile> = files.iter().collect();
        by_age.sort_by(|a, b| (a.ctime, &a.name, a.size).cmp(&(b.ctime, &b.name, b.size)));
        by_age.iter().rev().take(KEEP_NEWEST).map(|f| (*f).clone()).collect()
    } else {
        files.to_vec()
    };
    kept.sort_by(|a, b| a.name.cmp(&b.name));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, ctime: i64) -> ListedFile {
        ListedFile {
            name: name.into(),
            size: 1,
            ctime,
            link: false,
        }
    }

    fn names(files: &[ListedFile]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn small_directories_keep_everything() {
        let files: Vec<_> = (0..10)
            .map(|i| f(&format!("p{i:02}.rpm"), i))
            .chain([f("a.html", 0)])
            .collect();
        assert_eq!(short_filelist(&files).len(), 11, "exactly 10 rpms is not more than 10");
    }

    #[test]
    fn heavy_directories_keep_the_three_newest_of_all_files() {
        let mut files: Vec<_> = (0..11).map(|i| f(&format!("p{i:02}.rpm"), 100 + i)).collect();
        files.push(f("repomd.xml", 500));
        files.push(f("z-old.txt", 1));
        assert_eq!(names(&short_filelist(&files)), ["p09.rpm", "p10.rpm", "repomd.xml"]);
    }

    #[test]
    fn kinds_are_counted_separately_and_ties_go_to_the_greater_name() {
        // 6 .rpm + 6 .drpm = 12 packages, but neither kind exceeds 10: keep all.
        let mut files: Vec<_> = (0..6).map(|i| f(&format!("a{i}.rpm"), 1)).collect();
        files.extend((0..6).map(|i| f(&format!("a{i}.drpm"), 1)));
        assert_eq!(short_filelist(&files).len(), 12);
        let html: Vec<_> = (0..11).map(|i| f(&format!("h{i:02}.html"), 7)).collect();
        assert_eq!(names(&short_filelist(&html)), ["h08.html", "h09.html", "h10.html"]);
        let hdr: Vec<_> = (0..11).map(|i| f(&format!("x{i:02}.hdr"), i)).collect();
        assert_eq!(short_filelist(&hdr).len(), 3);
    }
}
