//! NuGet versions on any text: no panic; a parsed version's normalized form parses back to an
//! equal version; the order is antisymmetric and transitive on three strings cut from the
//! input (it is used with `sort_by`, which may panic otherwise); ranges never panic.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use packyard_format_nuget::version::{compare, normalize_range, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let a = parts.next().unwrap_or("");
    let b = parts.next().unwrap_or("");
    let c = parts.next().unwrap_or("");
    let _ = normalize_range(a);
    if let Ok(v) = parse(a) {
        let normalized = v.normalized();
        let again = parse(&normalized).expect("a normalized version parses");
        assert_eq!(again.normalized(), normalized);
        assert_eq!(again.cmp(&v), Ordering::Equal, "{a:?} vs {normalized:?}");
        let full = v.full();
        assert_eq!(parse(&full).expect("a full version parses").full(), full);
    }
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
