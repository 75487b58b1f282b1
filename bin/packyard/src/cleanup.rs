//! Package cleanup policies (GitLab's "keep N duplicated package files"): the schedule
//! inside `packyard serve` and the on-demand `packyard cleanup` command. The work itself is
//! `Registry::run_due_cleanup` / `run_all_cleanup` in the core; several server processes can
//! run the schedule at once, because each policy run is claimed in the database first.

use std::sync::Arc;
use std::time::Duration;

use packyard_core::cleanup::CleanupReport;
use packyard_core::Registry;

use crate::config::Config;

/// The scheduler wakes at least this often, so a policy set through the API runs soon.
const MAX_TICK: Duration = Duration::from_secs(60);

fn interval(config: &Config) -> Duration {
    Duration::from_secs(config.cleanup_interval_secs)
}

/// Runs every active policy now.
pub async fn run_now(registry: &Registry, config: &Config) -> anyhow::Result<CleanupReport> {
    let every = interval(config).max(Duration::from_secs(1));
    registry
        .run_all_cleanup(every)
        .await
        .map_err(|e| anyhow::anyhow!("cleanup failed: {e}"))
}

/// Starts the schedule on the current (actix) runtime, unless `cleanup_interval_secs` is 0.
/// Failures are logged and retried at the next tick; they never stop the server.
pub fn spawn_schedule(registry: Arc<Registry>, config: &Config) {
    let every = interval(config);
    if every.is_zero() {
        tracing::info!("package cleanup schedule is off (cleanup_interval_secs = 0)");
        return;
    }
    let tick = every.min(MAX_TICK);
    actix_web::rt::spawn(async move {
        let mut timer = tokio::time::interval(tick);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            match registry.run_due_cleanup(every).await {
                Ok(report) if report.policies > 0 => tracing::info!(
                    policies = report.policies,
                    deleted_files = report.deleted_files,
                    deleted_bytes = report.deleted_bytes,
                    "package cleanup policies ran"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "package cleanup pass failed; retrying at the next tick")
                }
            }
        }
    });
}
