//! The `orb` binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    orb_server::cli::main().await
}
