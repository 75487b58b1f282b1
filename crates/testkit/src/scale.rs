//! Helpers for the tests that run the catalog at scale (thousands of packages on SQLite):
//! counting the SQL statements every pooled connection starts (diesel's instrumentation), and
//! writing package rows straight into the SQLite file, since publishing thousands of packages
//! through the API would only measure the upload path. Each test binary is its own process,
//! so the recorded statements are those of the test binary that calls [`record_queries`].

use std::sync::Mutex;

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use diesel::{RunQueryDsl, SqliteConnection};

/// When the rows of [`insert_packages`] are created: package `n` at `BASE_TIME + n` seconds.
pub const BASE_TIME: i64 = 1_700_000_000_000;

/// Every statement any connection started since the last [`take_queries`], in order.
static QUERIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn recording() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            if let Ok(mut all) = QUERIES.lock() {
                all.push(query.to_string());
            }
        }
    }))
}

/// Records the statements of every connection opened from now on (call it before the
/// catalog's pool is built).
pub fn record_queries() {
    set_default_instrumentation(recording).expect("diesel instrumentation");
}

/// The statements recorded so far, and a fresh start.
pub fn take_queries() -> Vec<String> {
    std::mem::take(&mut *QUERIES.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Statements that read or write data: transaction control, pragmas and r2d2's health check
/// on every checkout (`SELECT 1 --`) left out.
pub fn data_queries(all: &[String]) -> Vec<String> {
    all.iter()
        .filter(|q| {
            let q = q.trim_start().to_ascii_uppercase();
            !q.starts_with("SELECT 1 --") && q.starts_with("SELECT")
                || q.starts_with("INSERT")
                || q.starts_with("UPDATE")
                || q.starts_with("DELETE")
                || q.starts_with("WITH")
        })
        .cloned()
        .collect()
}

/// `count` generic packages `pkg-00000`, `pkg-00001`, ... of version `1.{n % 7}.0` in the
/// project `project_id`, package `n` created at [`BASE_TIME`] + `n` s + `offset_ms` ms (so
/// that an offset per project orders the projects' packages of the same `n`).
pub fn insert_packages(conn: &mut SqliteConnection, project_id: i64, count: i64, offset_ms: i64) {
    diesel::sql_query(format!(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {last}) \
         INSERT INTO packages (project_id, format, name, normalized_name, version, status, \
         metadata, created_at, updated_at) SELECT {project_id}, 'generic', printf('pkg-%05d', n), \
         printf('pkg-%05d', n), printf('1.%d.0', n % 7), 'default', '{{}}', \
         {BASE_TIME} + n * 1000 + {offset_ms}, {BASE_TIME} FROM seq",
        last = count - 1,
    ))
    .execute(conn)
    .expect("inserting packages");
}

/// A `latest` tag on every package whose id is a multiple of ten.
pub fn tag_every_tenth(conn: &mut SqliteConnection) {
    diesel::sql_query(
        "INSERT INTO package_tags (package_id, name, created_at, updated_at) \
         SELECT id, 'latest', created_at, created_at FROM packages WHERE id % 10 = 0",
    )
    .execute(conn)
    .expect("tagging packages");
}

/// Fresh statistics for SQLite's planner, as a long-lived database has them.
pub fn analyze(conn: &mut SqliteConnection) {
    diesel::sql_query("ANALYZE").execute(conn).expect("ANALYZE");
}
