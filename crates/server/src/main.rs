//! The `orb` binary.

/// mimalloc rather than the C library's allocator: under many concurrent requests glibc's
/// per-thread arenas kept freed memory (the service held 250 MiB serving 200 respondents that
/// need 50), and allocation was a quarter of the service's CPU. See the README's Performance.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    orb_server::cli::main().await
}
