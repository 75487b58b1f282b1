//! Maven's version order on any text: no panic, antisymmetric, and transitive on three
//! versions cut from the input (the order is used with `sort_by`, which may panic otherwise).
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use packyard_format_maven::version::{compare, is_snapshot};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    let c = parts.next().unwrap_or("");
    let _ = is_snapshot(a);
    assert_eq!(compare(a, a), Ordering::Equal);
    let ab = compare(a, b);
    assert_eq!(ab, compare(b, a).reverse(), "{a:?} vs {b:?}");
    let bc = compare(b, c);
    let ac = compare(a, c);
    if ab != Ordering::Greater && bc != Ordering::Greater {
        assert_ne!(ac, Ordering::Greater, "{a:?} <= {b:?} <= {c:?}");
    }
    if ab == Ordering::Equal && bc == Ordering::Equal {
        assert_eq!(ac, Ordering::Equal, "{a:?} == {b:?} == {c:?}");
    }
});
