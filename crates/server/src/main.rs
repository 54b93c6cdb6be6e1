//! The `orb` binary.

/// jemalloc rather than the C library's allocator: under many concurrent requests glibc's
/// per-thread arenas kept freed memory (the service held 250 MiB serving 200 respondents that
/// need 50), and allocation was a quarter of the service's CPU. Its settings (a background
/// thread returning freed memory within a second) are built in: `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    orb_server::cli::main().await
}
