//! `mirrorvane account …`: web UI and API accounts from the command line — the first admin, password resets
//! without a browser, API tokens for scripts.
//!
//! Passwords are read from a file or standard input (first line), never from the command line, where `ps`
//! and shell history would show them.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use mirrorvane_crawler::log::now_seconds as now;
use mirrorvane_db::audit::{self, NewAuditRow};
use mirrorvane_db::{Database, accounts, password};

/// `mirrorvane account …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum AccountCommand {
    /// Create a local account (password from --password-file or the first line of standard input).
    Add {
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        /// Put the account in these groups (repeatable); the admin group makes it an admin.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a new password (ends the account's sessions).
    Password {
        name: String,
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Make an API token for an account and print it (only its hash is kept: store it now).
    Token {
        name: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the accounts and their groups.
    List,
}

fn read_password(file: Option<&PathBuf>) -> anyhow::Result<String> {
    let line = match file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("cannot read {}", f.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if line.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    Ok(line)
}

/// Runs one account command.
pub async fn run(db: &Database, cmd: &AccountCommand) -> anyhow::Result<()> {
    let actor = "mirrorvane account";
    match cmd {
        AccountCommand::Add {
            name,
            email,
            groups,
            password_file,
        } => {
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                bail!("{name:?} is not an account name (no spaces)");
            }
            let hash = password::hash(&read_password(password_file.as_ref())?)?;
            let mut tx = db.begin().await?;
            let Some(id) = accounts::create(&mut tx, name, email, Some(&hash), now()).await? else {
                bail!("an account named {name:?} already exists");
            };
            for g in groups {
                accounts::add_group(&mut tx, id, g).await?;
            }
            record(&mut tx, actor, "account-create", name).await?;
            tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
            println!("account {name} created");
        }
        AccountCommand::Password { name, password_file } => {
            let hash = password::hash(&read_password(password_file.as_ref())?)?;
            let mut tx = db.begin().await?;
            let Some(account) = accounts::by_name(&mut tx, name).await? else {
                bail!("no account named {name:?}");
            };
            accounts::set_password(&mut tx, account.id, &hash).await?;
            record(&mut tx, actor, "password-reset", name).await?;
            tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
            println!("password of {name} set; its sessions have ended");
        }
        AccountCommand::Token { name, label } => {
            let mut tx = db.begin().await?;
            let Some(account) = accounts::by_name(&mut tx, name).await? else {
                bail!("no account named {name:?}");
            };
            let token = mirrorvane_web::accounts::random_token();
            accounts::create_token(
                &mut tx,
                &mirrorvane_web::accounts::digest(&token),
                account.id,
                label,
                now(),
            )
            .await?;
            record(&mut tx, actor, "token-create", name).await?;
            tx.commit().await.map_err(mirrorvane_db::DbError::from)?;
            println!("{token}");
            eprintln!("API token for {name}: send it as `Authorization: Bearer TOKEN`; it is not shown again");
        }
        AccountCommand::List => {
            let mut conn = db.acquire().await?;
            for a in accounts::all(&mut conn).await? {
                let groups = accounts::groups(&mut conn, a.id).await?;
                let disabled = if bool::from(a.disabled) { " (disabled)" } else { "" };
                println!("{}\t{}\t{}{disabled}", a.name, a.email, groups.join(","));
            }
        }
    }
    Ok(())
}

async fn record(conn: &mut mirrorvane_db::Connection, actor: &str, action: &str, name: &str) -> anyhow::Result<()> {
    let row = NewAuditRow {
        at: now(),
        actor,
        site: None,
        action,
        target: format!("account {name:?}"),
        old_value: None,
        new_value: None,
    };
    Ok(audit::record(conn, &row).await?)
}
