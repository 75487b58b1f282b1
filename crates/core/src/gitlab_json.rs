//! GitLab's JSON entities that more than one route crate answers with (spec §3.2, §3.3):
//! the package file (generic `select=package_file` and the packages API) and timestamps.

use serde_json::{json, Value};

use crate::model::{Millis, PackageFile};

/// `2019-11-27T03:37:38.711Z`: UTC with milliseconds, as GitLab writes timestamps.
pub fn timestamp(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn opt_timestamp(ms: Option<Millis>) -> Value {
    ms.map(|m| Value::String(timestamp(m)))
        .unwrap_or(Value::Null)
}

/// `API::Entities::PackageFile`; `size` is an integer (python-gitlab compares it).
pub fn package_file(f: &PackageFile) -> Value {
    let mut v = json!({
        "id": f.id.0,
        "package_id": f.package_id.0,
        "created_at": timestamp(f.created_at),
        "file_name": f.file_name,
        "size": f.size,
        "file_md5": f.md5,
        "file_sha1": f.sha1,
        "file_sha256": f.sha256,
    });
    if let (Some(b), Some(obj)) = (&f.build, v.as_object_mut()) {
        obj.insert(
            "pipelines".into(),
            json!([{ "id": b.pipeline_id, "sha": b.sha, "ref": b.git_ref, "status": "success", "source": "push" }]),
        );
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(timestamp(1_574_825_858_711), "2019-11-27T03:37:38.711Z");
    }
}
