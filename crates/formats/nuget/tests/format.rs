//! The format's answers through the `PackageFormat` trait, as the Registry and the
//! Packages API use them: ids compare case-insensitively, versions in NuGet's order.
#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;

use packyard_core::PackageFormat;
use packyard_format_nuget::{Nuget, NugetConfig, FORMAT};

#[test]
fn ids_are_compared_lower_cased_and_invalid_ids_are_refused() {
    let f = Nuget::new(NugetConfig::default());
    assert_eq!(f.id(), FORMAT);
    assert_eq!(f.display_name(), "NuGet");
    assert_eq!(
        f.normalize_name("Newtonsoft.Json").unwrap(),
        "newtonsoft.json"
    );
    assert_eq!(f.normalize_name("My_Lib-2").unwrap(), "my_lib-2");
    for bad in ["", "a b", "..", ".x", "x.", "a..b", "é", &"x".repeat(101)] {
        assert!(f.normalize_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn versions_are_ordered_as_nuget_orders_them() {
    let f = Nuget::new(NugetConfig::default());
    assert_eq!(f.compare_versions("1.0", "1.0.0"), Ordering::Equal);
    assert_eq!(f.compare_versions("1.0.0-beta", "1.0.0"), Ordering::Less);
    assert_eq!(
        f.compare_versions("1.0.0-beta.2", "1.0.0-beta.10"),
        Ordering::Less
    );
    assert_eq!(f.compare_versions("1.0.0.1", "1.0.0"), Ordering::Greater);
    assert_eq!(f.compare_versions("1.0.0+a", "1.0.0+b"), Ordering::Equal);
    assert_eq!(f.compare_versions("10.0.0", "9.0.0"), Ordering::Greater);
}

#[test]
fn duplicates_follow_the_group_setting_refused_by_default() {
    let f = Nuget::new(NugetConfig::default());
    let rule = f.duplicate_rule().unwrap();
    assert!(!rule.allowed_by_default);
}
