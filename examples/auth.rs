//! Accounts and tokens: register, log in, save the tokens, restore them into
//! a new client as a restarted program would, and refresh the access token.
//!
//! ```text
//! cargo run --example auth
//! TOOLBOXAI_BASE_URL=https://toolbox.example.com cargo run --example auth
//! ```

mod common;

use std::path::Path;
use std::process::ExitCode;

use secrecy::ExposeSecret;
use serde_json::json;
use toolboxai::{RegisterRequest, Role, Tokens};

const PASSWORD: &str = "AuthExamplePass123!";

#[tokio::main]
async fn main() -> ExitCode {
    common::init_logging();
    common::exit_code("auth example", run().await)
}

async fn run() -> toolboxai::Result<()> {
    let target = common::connect().await?;
    let auth = target.client.auth();

    // Registration creates the account but does not log in.
    let email = common::unique_email("student");
    let request =
        RegisterRequest::new(&email, PASSWORD, "Jane Smith", Role::Student).grade_level(7);
    let user = auth.register(&request).await?;
    println!(
        "\nRegistered {} as {} (id {})",
        user.email, user.role, user.id
    );
    println!("  logged in: {}", auth.is_logged_in());

    // Login stores the tokens in the client, and every manager of the
    // client (and every clone of it) sends them from now on.
    let session = auth.login(&email, PASSWORD).await?;
    println!("\nLogged in");
    println!(
        "  token type  {}",
        session.token_type.as_deref().unwrap_or("?")
    );
    if let Some(seconds) = session.expires_in {
        println!("  expires in  {seconds} s");
    }
    println!("  logged in   {}", auth.is_logged_in());

    // Save the tokens so that a later run can skip the password.
    let tokens = auth
        .tokens()
        .ok_or_else(|| toolboxai::APIError::InvalidInput("login stored no tokens".into()))?;
    let file_name = format!("toolboxai-tokens-{}.json", uuid::Uuid::new_v4().simple());
    let path = std::env::temp_dir().join(file_name);
    save_tokens(&path, &tokens)?;
    println!("\nSaved the tokens to {}", path.display());
    // `Debug` output shows `[REDACTED]` in place of each token.
    println!("  {tokens:?}");

    // A new client, as in a restarted program, starts logged out. Restoring
    // the saved tokens logs it in without a password.
    let restored_client = target.new_client()?;
    let restored_auth = restored_client.auth();
    println!("\nNew client, logged in: {}", restored_auth.is_logged_in());
    let saved = load_tokens(&path)?;
    restored_auth.restore_tokens(saved)?;
    remove_file(&path);
    println!(
        "Restored the tokens, logged in: {}",
        restored_auth.is_logged_in()
    );
    if let Some(remaining) = restored_auth.tokens().and_then(|t| t.remaining_lifetime()) {
        println!("  access token valid for {} s", remaining.as_secs());
    }

    // The restored session works for authenticated calls.
    let progress = restored_client.progress().course("course-123").await?;
    println!(
        "  course-123 progress {:.1} % (fetched with the restored tokens)",
        progress.overall_progress
    );

    // The client refreshes tokens by itself before they expire and after a
    // 401. An explicit refresh is for programs that save tokens and want a
    // fresh pair before saving.
    let before = restored_auth.tokens();
    let refreshed = restored_auth.refresh().await?;
    let changed = before.is_some_and(|before| {
        before.access_token.expose_secret() != refreshed.access_token.expose_secret()
    });
    println!("\nRefreshed the access token");
    println!("  new access token  {changed}");
    if let Some(remaining) = refreshed.remaining_lifetime() {
        println!("  valid for         {} s", remaining.as_secs());
    }

    // The protocol has no logout call, so logout only removes the tokens
    // from the client.
    restored_auth.logout();
    println!("\nLogged out, logged in: {}", restored_auth.is_logged_in());
    Ok(())
}

/// Writes the tokens as JSON to a new file. They are secrets, so the file
/// must not exist yet, and on Unix it is created readable by its owner only.
fn save_tokens(path: &Path, tokens: &Tokens) -> toolboxai::Result<()> {
    let saved = json!({
        "access_token": tokens.access_token.expose_secret(),
        "refresh_token": tokens.refresh_token.as_ref().map(|token| token.expose_secret()),
    });
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|error| file_error(path, error))?;
    serde_json::to_writer(file, &saved)
        .map_err(|error| file_error(path, std::io::Error::other(error)))
}

/// Reads tokens written by [`save_tokens`]. The expiry is read back from
/// the access token's JWT `exp` claim.
fn load_tokens(path: &Path) -> toolboxai::Result<Tokens> {
    let text = std::fs::read_to_string(path).map_err(|error| file_error(path, error))?;
    let saved: serde_json::Value = serde_json::from_str(&text)
        .map_err(|error| file_error(path, std::io::Error::other(error)))?;
    let access_token = saved["access_token"].as_str().ok_or_else(|| {
        toolboxai::APIError::InvalidInput(format!("{} has no access_token", path.display()))
    })?;
    let refresh_token = saved["refresh_token"].as_str().map(str::to_owned);
    Ok(Tokens::new(access_token, refresh_token))
}

fn remove_file(path: &Path) {
    if let Err(error) = std::fs::remove_file(path) {
        eprintln!("could not remove {}: {error}", path.display());
    }
}

fn file_error(path: &Path, error: std::io::Error) -> toolboxai::APIError {
    toolboxai::APIError::InvalidInput(format!("token file {}: {error}", path.display()))
}
