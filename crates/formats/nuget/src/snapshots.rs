//! Snapshots of the documents clients parse (filled in as the views are written).
