//! `mirrorvane keygen -o FILE`: a new key for signing snapshots. The secret key goes to `FILE` (readable by its
//! owner only; an existing file is never overwritten); the public key is printed, for the edges'
//! `--public-key` and the WASM worker.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;

use anyhow::Context as _;

/// Arguments of `mirrorvane keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where to write the secret key (created with mode 0600; must not exist).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// Writes the secret key and returns the public key's text.
pub fn run(args: &Args) -> anyhow::Result<String> {
    let key = mirrorvane_signature::SecretKey::generate()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.output)
        .with_context(|| {
            format!(
                "cannot create {} (an existing key is never overwritten)",
                args.output.display()
            )
        })?;
    file.write_all(key.to_text().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let public = key.public().to_text();
    println!("{public}");
    eprintln!(
        "secret key written to {}; give the line above to the edges (--public-key) and keep the file on the backend",
        args.output.display()
    );
    Ok(public)
}
