//! What forty sign-ins at once cost in memory, measured as the growth of this process's peak
//! resident set (`VmHWM`, reset through `/proc/self/clear_refs`; see archive_memory.rs for
//! why not a counting allocator). This binary holds exactly one test.
//!
//! Each argon2 call works in 19 MiB. Run on tokio's blocking pool, forty calls under two
//! permits still touched forty threads whose malloc arenas each kept their 19 MiB (about
//! 200 MiB here, 410 MB in the server); on the hasher's own two threads, each reusing one
//! block, the growth stays near two blocks.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use packyard_core::passwords::PasswordHasher;

const MIB: u64 = 1024 * 1024;

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn forty_parallel_verifications_stay_within_a_few_argon2_blocks() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hasher = Arc::new(PasswordHasher::new(2, Duration::from_secs(600)));
        let phc = hasher.hash("correct horse".into()).await.unwrap();
        if std::fs::write("/proc/self/clear_refs", "5").is_err() {
            eprintln!("no /proc/self/clear_refs: peak memory cannot be measured here");
            return;
        }
        let before = status_kib("VmHWM:").unwrap();
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let (hasher, phc) = (hasher.clone(), phc.clone());
            calls.spawn(async move { hasher.verify("correct horse".into(), Some(phc)).await });
        }
        while let Some(done) = calls.join_next().await {
            assert!(done.unwrap().unwrap(), "the password verifies");
        }
        let growth = (status_kib("VmHWM:").unwrap().saturating_sub(before)) * 1024;
        // Two threads, one 19 MiB block each, plus the runtime's own growth.
        assert!(
            growth < 80 * MIB,
            "40 verifications grew the peak by {} MiB",
            growth / MIB
        );
    });
}
