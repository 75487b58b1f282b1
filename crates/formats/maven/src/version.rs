//! Maven's version order: `org.apache.maven.artifact.versioning.ComparableVersion` of
//! maven-artifact 3.8 (the mvn 3.8.7 Packyard is tested with), and whether a version is a
//! SNAPSHOT (`org.apache.maven.artifact.ArtifactUtils.isSnapshot`).
//!
//! Specs: the "Version Order Specification" of the POM reference
//! (<https://maven.apache.org/pom.html#version-order-specification>) and the javadoc of
//! `ComparableVersion`
//! (<https://maven.apache.org/ref/3.8.7/maven-artifact/apidocs/org/apache/maven/artifact/versioning/ComparableVersion.html>).
//! The rules, as maven-artifact 3.8 applies them:
//!
//! - The version is lower-cased, then split into items at `.`, at `-` and where digits and
//!   non-digits meet. An empty item (`1..1`, a leading `-`) is the number 0.
//! - `-` and a digit/letter transition open a sub-list: everything after them is one item of
//!   the list before (`1-1` is `[1, [1]]`, `1a1` is `[1, [a, [1]]]`). A trailing qualifier
//!   after a dot opens one too (`1.foo` is `1-foo`, so `1.0.0.rc1` == `1.0.0-rc1`).
//! - Null items are trimmed from the end of every list: `0`, the release qualifier (``,
//!   `ga`, `final`, `release`) and empty lists, so `1` == `1.0` == `1.0.0` == `1.ga` == `1-0`.
//! - Numbers compare as numbers of any size (digit strings with leading zeros stripped: no
//!   overflow).
//! - Qualifiers: `alpha` < `beta` < `milestone` < `rc` == `cr` < `snapshot` < `` == `ga` ==
//!   `final` == `release` < `sp` < any other qualifier, the others compared as text. A single
//!   `a`, `b`, `m` directly followed by a digit means `alpha`, `beta`, `milestone`
//!   (`1-a1` == `1-alpha-1`).
//! - Between kinds: a number > a sub-list > a qualifier (`1.1` > `1-1` > `1-sp`), and a
//!   missing item compares as null: `1-snapshot` < `1` < `1-sp` < `1.1`.
//!
//! Two quirks of maven-artifact are kept so the order is the client's: a number written with
//! more than 9 digits (10 zeros included) is a "long" that is greater than every number of at
//! most 9 digits, and one of more than 18 digits is greater than every "long"
//! (`1.0000000000.1` > `1.5`). Only ASCII digits are digits here (Java also counts other
//! Unicode digits); the versions Packyard accepts are ASCII.
//!
//! Later maven-artifact releases (3.9) changed some corner cases; where they differ this
//! follows 3.8.7, the client Packyard is tested with: its order was checked on 8,000 pairs
//! against the jar (tests/fixtures/maven-3.8.7-order-*.tsv).
//!
//! maven-artifact's order is not transitive (`1-a` < `1--a1` < `1` < `1-a`), and
//! `slice::sort_by` may panic on such an order, so [`compare`] breaks those cycles (see its
//! doc); every version of the real-world fixture is ordered exactly as mvn orders it. The
//! order is computed without recursion, so any `&str` is compared in linear time and stack.

use std::cmp::Ordering;

/// Compares two versions as Maven's `ComparableVersion` does.
///
/// The result is a total order (safe for `sort_by`), which maven-artifact's is not: it ranks a
/// number above a sub-list above a qualifier whatever they hold, yet compares each with a
/// missing item by what it holds, so `1-a` < `1--a1` < `1` < `1-a` there. Where two versions
/// share a prefix `P` and one is below `P` and the other above it, this says so even when
/// maven-artifact would rank them the other way round by their items' kinds (which puts the
/// three in such a cycle); every other pair is ordered as maven-artifact 3.8.7 orders it.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_parsed(&parse(a), &parse(b), Mode::Total)
}

/// Whether Maven treats `v` as a SNAPSHOT: it ends with `SNAPSHOT` (any case), or it is a
/// timestamped build `<base>-yyyyMMdd.HHmmss-<build>` as deployed to a remote repository.
pub fn is_snapshot(v: &str) -> bool {
    ends_with_snapshot(v) || is_timestamped(v)
}

fn ends_with_snapshot(v: &str) -> bool {
    const SNAPSHOT: &[u8] = b"SNAPSHOT";
    let b = v.as_bytes();
    b.len() >= SNAPSHOT.len() && b[b.len() - SNAPSHOT.len()..].eq_ignore_ascii_case(SNAPSHOT)
}

/// `^(.*)-(\d{8}\.\d{6})-(\d+)$`, Maven's `Artifact.VERSION_FILE_PATTERN` (`.` does not match
/// a line terminator, as in Java's default mode).
fn is_timestamped(v: &str) -> bool {
    let Some((rest, build)) = v.rsplit_once('-') else {
        return false;
    };
    if build.is_empty() || !build.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let Some((base, stamp)) = rest.rsplit_once('-') else {
        return false;
    };
    let s = stamp.as_bytes();
    let stamp_ok = s.len() == 15
        && s[8] == b'.'
        && s[..8].iter().all(u8::is_ascii_digit)
        && s[9..].iter().all(u8::is_ascii_digit);
    stamp_ok
        && !base
            .chars()
            .any(|c| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'))
}

// ------------------------------------------------------------------ items

/// The rank of the release qualifier (``, `ga`, `final`, `release`) among the known ones.
const RELEASE: u8 = 5;
/// The rank of every qualifier Maven does not know; they then compare as text.
const UNKNOWN: u8 = 7;

/// One item that is not a sub-list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number. `size` is maven-artifact's class: 0 for at most 9 digits, 1 for at most 18,
    /// 2 beyond (counted after stripping leading zeros, except that an all-zero string keeps
    /// its length). `digits` has no leading zeros; empty is 0.
    Number { size: u8, digits: String },
    /// A qualifier: `rank` 0..=6 for alpha, beta, milestone, rc, snapshot, release, sp;
    /// [`UNKNOWN`] with its (lower-case) text otherwise.
    Qualifier { rank: u8, text: String },
}

impl Item {
    fn zero() -> Item {
        Item::Number {
            size: 0,
            digits: String::new(),
        }
    }

    fn number(buf: &str) -> Item {
        let stripped = buf.trim_start_matches('0');
        // maven-artifact strips leading zeros but leaves an all-zero string as it is, and
        // picks int, long or BigInteger by the length of what is left.
        let kept = if stripped.is_empty() { buf } else { stripped };
        let size = match kept.len() {
            0..=9 => 0,
            10..=18 => 1,
            _ => 2,
        };
        Item::Number {
            size,
            digits: stripped.to_owned(),
        }
    }

    fn qualifier(buf: &str, followed_by_digit: bool) -> Item {
        let name = match buf {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            other => other,
        };
        let rank = match name {
            "alpha" => 0,
            "beta" => 1,
            "milestone" => 2,
            "rc" | "cr" => 3,
            "snapshot" => 4,
            "" | "ga" | "final" | "release" => RELEASE,
            "sp" => 6,
            _ => UNKNOWN,
        };
        let text = if rank == UNKNOWN {
            name.to_owned()
        } else {
            String::new()
        };
        Item::Qualifier { rank, text }
    }

    /// A trailing null item is dropped: `1.0` is `1`, `1-ga` is `1`.
    fn is_null(&self) -> bool {
        match self {
            Item::Number { digits, .. } => digits.is_empty(),
            Item::Qualifier { rank, .. } => *rank == RELEASE,
        }
    }

    /// This item against a missing one (the other version is shorter).
    fn cmp_missing(&self) -> Ordering {
        match self {
            Item::Number { digits, .. } => {
                if digits.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Qualifier { rank, .. } => rank.cmp(&RELEASE),
        }
    }

    fn cmp_item(&self, other: &Item) -> Ordering {
        match (self, other) {
            (
                Item::Number {
                    size: sa,
                    digits: a,
                },
                Item::Number {
                    size: sb,
                    digits: b,
                },
            ) => sa
                .cmp(sb)
                .then(a.len().cmp(&b.len()))
                .then_with(|| a.cmp(b)),
            (Item::Number { .. }, Item::Qualifier { .. }) => Ordering::Greater,
            (Item::Qualifier { .. }, Item::Number { .. }) => Ordering::Less,
            (Item::Qualifier { rank: ra, text: a }, Item::Qualifier { rank: rb, text: b }) => {
                // Java compares strings by UTF-16 code units.
                ra.cmp(rb)
                    .then_with(|| a.encode_utf16().cmp(b.encode_utf16()))
            }
        }
    }

    /// This item against a sub-list in the same place of the other version.
    fn cmp_list(&self) -> Ordering {
        match self {
            Item::Number { .. } => Ordering::Greater,
            Item::Qualifier { .. } => Ordering::Less,
        }
    }
}

/// A parsed version: maven-artifact's nested lists, flattened. A sub-list is always the last
/// element of its list, so the nesting is a chain: `lists[k + 1]` is the sub-list that ends
/// `lists[k]`. After normalising, only `lists[0]` may be empty.
struct Parsed {
    lists: Vec<Vec<Item>>,
    /// `sides[k][i]`: how the rest of the version from `lists[k][i]` on compares with
    /// nothing (Maven's comparison with a missing item). For a non-null item that is its own
    /// comparison; a null item in the middle takes the side of what follows it.
    sides: Vec<Vec<Ordering>>,
    /// `list_sides[k]`: how the sub-list `lists[k]` (with its own sub-lists) compares with
    /// nothing; `list_sides[lists.len()]` is `Equal`.
    list_sides: Vec<Ordering>,
}

fn parse(version: &str) -> Parsed {
    let version = version.to_lowercase();
    let mut lists: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    for (i, c) in version.char_indices() {
        let list_len = lists.len();
        let cur = &mut lists[list_len - 1];
        if c == '.' || c == '-' {
            if i == start {
                cur.push(Item::zero());
            } else {
                cur.push(item(is_digit, &version[start..i]));
            }
            start = i + c.len_utf8();
            if c == '-' {
                lists.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // `x1`: the qualifier, then the number in a sub-list.
                if !cur.is_empty() {
                    lists.push(Vec::new());
                }
                let last = lists.len() - 1;
                lists[last].push(Item::qualifier(&version[start..i], true));
                lists.push(Vec::new());
                start = i;
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                // `1x`: the number, then the qualifier in a sub-list.
                cur.push(item(true, &version[start..i]));
                lists.push(Vec::new());
                start = i;
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        let last = lists.len() - 1;
        // `1.0.0.x1` == `1.0.0-x1`: a trailing qualifier after a dot is a sub-list.
        if !is_digit && !lists[last].is_empty() {
            lists.push(Vec::new());
        }
        let last = lists.len() - 1;
        lists[last].push(item(is_digit, &version[start..]));
    }
    normalize(&mut lists);
    sides(lists)
}

fn item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::number(buf)
    } else {
        Item::qualifier(buf, false)
    }
}

/// Drops null items from the end of every list, innermost first, and sub-lists left empty.
fn normalize(lists: &mut Vec<Vec<Item>>) {
    for k in (0..lists.len()).rev() {
        while lists[k].last().is_some_and(Item::is_null) {
            lists[k].pop();
        }
        if k > 0 && k == lists.len() - 1 && lists[k].is_empty() {
            lists.pop();
        }
    }
}

/// One pass from the end computes every item's and sub-list's side.
fn sides(lists: Vec<Vec<Item>>) -> Parsed {
    let mut list_sides = vec![Ordering::Equal; lists.len() + 1];
    let mut sides: Vec<Vec<Ordering>> = lists
        .iter()
        .map(|l| vec![Ordering::Equal; l.len()])
        .collect();
    for k in (0..lists.len()).rev() {
        let mut rest = list_sides[k + 1];
        for (i, it) in lists[k].iter().enumerate().rev() {
            if !it.is_null() {
                rest = it.cmp_missing();
            }
            sides[k][i] = rest;
        }
        list_sides[k] = rest;
    }
    Parsed {
        lists,
        sides,
        list_sides,
    }
}

/// One element of a list: an item, or the sub-list that ends it; with its side.
enum Element<'a> {
    Item(&'a Item, Ordering),
    List(Ordering),
}

fn element(p: &Parsed, k: usize, i: usize) -> Option<Element<'_>> {
    match p.lists[k].get(i) {
        Some(item) => Some(Element::Item(item, p.sides[k][i])),
        None if i == p.lists[k].len() && k + 1 < p.lists.len() => {
            Some(Element::List(p.list_sides[k + 1]))
        }
        None => None,
    }
}

/// Whether to compare exactly as maven-artifact does, or as a total order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// maven-artifact 3.8.7 exactly, cycles included (only the tests use it).
    #[cfg_attr(not(test), allow(dead_code))]
    Maven,
    /// Where two items of different kinds lie on different sides of "nothing" (one version
    /// is below the common prefix, the other above), the sides decide. See [`compare`].
    Total,
}

fn compare_parsed(a: &Parsed, b: &Parsed, mode: Mode) -> Ordering {
    decide(a, b, mode).0
}

/// The order, and the list and index of the element that decided it.
fn decide(a: &Parsed, b: &Parsed, mode: Mode) -> (Ordering, usize, usize) {
    let total = mode == Mode::Total;
    let mut k = 0;
    'lists: loop {
        let mut i = 0;
        loop {
            let o = match (element(a, k, i), element(b, k, i)) {
                (None, None) => return (Ordering::Equal, k, i),
                (Some(Element::List(_)), Some(Element::List(_))) => {
                    k += 1;
                    continue 'lists;
                }
                (Some(Element::Item(_, sx)), Some(Element::Item(_, sy)))
                | (Some(Element::Item(_, sx)), Some(Element::List(sy)))
                | (Some(Element::List(sx)), Some(Element::Item(_, sy)))
                    if total && sx != sy =>
                {
                    sx.cmp(&sy)
                }
                (Some(Element::Item(x, _)), Some(Element::Item(y, _))) => x.cmp_item(y),
                (Some(Element::Item(x, _)), Some(Element::List(_))) => x.cmp_list(),
                (Some(Element::List(_)), Some(Element::Item(y, _))) => y.cmp_list().reverse(),
                (Some(Element::Item(x, _)), None) => x.cmp_missing(),
                (None, Some(Element::Item(y, _))) => y.cmp_missing().reverse(),
                (Some(Element::List(s)), None) => s,
                (None, Some(Element::List(s))) => s.reverse(),
            };
            if o.is_ne() {
                return (o, k, i);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Ordering::{Equal, Greater, Less};

    fn assert_order(versions: &[&str]) {
        for (i, a) in versions.iter().enumerate() {
            for (j, b) in versions.iter().enumerate() {
                assert_eq!(compare(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    fn assert_equal(versions: &[&str]) {
        for a in versions {
            for b in versions {
                assert_eq!(compare(a, b), Equal, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn pom_reference_examples_hold() {
        // The examples of the POM reference's "Version Order Specification".
        assert_order(&["1", "1.1"]);
        assert_order(&["1-snapshot", "1", "1-sp"]);
        assert_order(&["1-foo2", "1-foo10"]);
        assert_order(&["1.foo", "1-1", "1.1"]);
        assert_equal(&["1.foo", "1-foo"]);
        assert_equal(&["1.ga", "1-ga", "1-0", "1.0", "1"]);
        assert_order(&["1-ga", "1-sp"]);
        assert_order(&["1-ga.1", "1-sp.1"]);
        assert_equal(&["1-a1", "1-alpha-1"]);
        assert_equal(&["1.0.0.rc1", "1.0.0-rc1"]);
    }

    #[test]
    fn hyphen_nulls_are_trimmed_at_each_level_as_maven_3_8_does() {
        // mvn 3.8.7: `1-ga-1` is `[1, [[1]]]` and `1-1` is `[1, [1]]`, so the first is less
        // (the spec's text says equal; the client decides what Maven users see).
        assert_order(&["1-sp-1", "1-ga-1", "1-1"]);
        assert_equal(&["1.0-1", "1-1"]);
        assert_equal(&["1--1", "1-ga-1"]);
    }

    #[test]
    fn qualifiers_follow_the_documented_order() {
        assert_order(&[
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-foo",
        ]);
        assert_equal(&["1-rc", "1-cr", "1-RC", "1.rc"]);
        assert_equal(&["1", "1-ga", "1-final", "1-release", "1.FINAL", "1GA"]);
        assert_equal(&["1-a1", "1-alpha1", "1-alpha-1", "1-A1", "1a1"]);
        assert_equal(&["1-b2", "1-beta-2"]);
        assert_equal(&["1-m3", "1-milestone-3"]);
        // Not followed by a digit, a lone letter is an unknown qualifier.
        assert_order(&["1-sp", "1-a", "1-b", "1-m"]);
        assert_order(&["2.0-rc1", "2.0-rc2", "2.0-SNAPSHOT", "2.0", "2.0.1"]);
        assert_order(&["1.0-alpha-1", "1.0-alpha-2", "1.0-beta-1", "1.0"]);
    }

    #[test]
    fn kinds_order_number_over_list_over_qualifier() {
        assert_order(&["1-sp", "1-1", "1.1"]);
        assert_order(&["1.sp", "1-1"]);
        assert_order(&["1-1", "1-1.1", "1-2"]);
        assert_order(&["1", "1-1"]);
    }

    #[test]
    fn numbers_of_any_size_compare_as_numbers() {
        assert_order(&[
            "1.2",
            "1.10",
            "1.123456789",
            "1.1234567890",
            "1.123456789012345678",
            "1.1234567890123456789",
            "1.123456789012345678901234567890",
            "1.123456789012345678901234567891",
            "1.1234567890123456789012345678900",
        ]);
        assert_equal(&["1.00012", "1.12", "1.012"]);
        assert_equal(&["1-0012", "1-12"]);
        assert_equal(&["1.000", "1", "1.000000000000000000000000000"]);
        assert_order(&["9", "10", "99999999999999999999", "100000000000000000000"]);
    }

    #[test]
    fn maven_artifact_size_quirk_is_kept() {
        // maven-artifact 3.8.7 says `1.0000000000.1 > 1.5`: ten zeros make a "long".
        assert_eq!(compare("1.0000000000.1", "1.5"), Greater);
        assert_eq!(compare("1.000000000.1", "1.5"), Less);
    }

    #[test]
    fn trailing_zeros_and_empty_items_are_trimmed() {
        assert_equal(&["1", "1.0", "1.0.0", "1.", "1-", "1.0-0.0", "1-0-0"]);
        assert_equal(&["1..1", "1.0.1"]);
        assert_equal(&["", ".", "-", "0", "0.0", "ga"]);
        assert_order(&["", "1"]);
        assert_order(&["-snapshot", "", "-sp"]);
    }

    #[test]
    fn snapshots_are_recognised() {
        assert!(is_snapshot("1.0-SNAPSHOT"));
        assert!(is_snapshot("1.0-snapshot"));
        assert!(is_snapshot("SNAPSHOT"));
        assert!(is_snapshot("1.0-20240101.120000-1"));
        assert!(is_snapshot("1.0-20240101.120000-17"));
        assert!(!is_snapshot("1.0"));
        assert!(!is_snapshot("1.0-SNAPSHOT-1"));
        assert!(!is_snapshot("1.0-20240101.12000-1"));
        assert!(!is_snapshot("1.0-20240101.120000-"));
        assert!(!is_snapshot("20240101.120000-1"));
        assert!(is_snapshot("-20240101.120000-1"));
        assert!(!is_snapshot("a\n-20240101.120000-1"));
        assert!(!is_snapshot(""));
        assert!(!is_snapshot("SNAPSHÖT"));
    }

    const PIECES: &[&str] = &[
        "1", "2", "0", "10", "a", "b", "m", "rc", "sp", "ga", "-", ".", "snapshot", "foo", "00",
    ];

    fn version() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..8).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn the_order_is_total_and_consistent(a in version(), b in version(), c in version()) {
            prop_assert_eq!(compare(&a, &a), Equal);
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            let (ab, bc, ac) = (compare(&a, &b), compare(&b, &c), compare(&a, &c));
            if ab != Greater && bc != Greater {
                prop_assert_ne!(ac, Greater, "{} <= {} <= {} but {} > {}", a, b, c, a, c);
            }
            if ab == Equal && bc == Equal {
                prop_assert_eq!(ac, Equal);
            }
        }

        #[test]
        fn any_text_compares_without_panic(a in any::<String>(), b in any::<String>()) {
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            let _ = is_snapshot(&a);
        }
    }

    /// Pairs of versions and the order maven-artifact 3.8.7 (the jar of Debian's mvn 3.8.7)
    /// gives them, one `a<TAB>b<TAB><, = or >` a line, made by feeding the pairs to
    /// `ComparableVersion.compareTo`. RANDOM: versions glued together from numbers,
    /// qualifiers and separators; REAL: every pair of 72 versions as projects publish them.
    const RANDOM: &str = include_str!("../tests/fixtures/maven-3.8.7-order-random.tsv");
    const REAL: &str = include_str!("../tests/fixtures/maven-3.8.7-order-real.tsv");

    fn maven(a: &str, b: &str) -> Ordering {
        compare_parsed(&parse(a), &parse(b), Mode::Maven)
    }

    /// The version made of `p`'s elements before element `i` of list `k`.
    fn prefix(p: &Parsed, k: usize, i: usize) -> Parsed {
        let mut lists = p.lists[..=k].to_vec();
        lists[k].truncate(i);
        sides(lists)
    }

    fn fixture(text: &'static str) -> Vec<(&'static str, &'static str, Ordering)> {
        text.lines()
            .map(|line| {
                let f: Vec<&str> = line.split('\t').collect();
                let want = match f.get(2) {
                    Some(&"<") => Less,
                    Some(&"=") => Equal,
                    Some(&">") => Greater,
                    _ => panic!("bad fixture line {line:?}"),
                };
                (f[0], f[1], want)
            })
            .collect()
    }

    #[test]
    fn the_model_of_maven_artifact_matches_mvn_3_8_7() {
        let pairs = [fixture(RANDOM), fixture(REAL)].concat();
        assert!(
            pairs.len() > 8000,
            "the fixtures have only {} pairs",
            pairs.len()
        );
        let wrong: Vec<String> = pairs
            .iter()
            .filter(|(a, b, want)| maven(a, b) != *want)
            .map(|(a, b, want)| format!("{a:?} {want:?} {b:?}"))
            .collect();
        assert!(
            wrong.is_empty(),
            "{} differ from mvn:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn the_total_order_differs_from_mvn_only_inside_its_cycles() {
        let mut differ = 0;
        for (a, b, want) in fixture(RANDOM) {
            let got = compare(a, b);
            if got == want {
                continue;
            }
            differ += 1;
            // mvn ranks `a` and `b` the other way round, yet puts their common prefix
            // between them: a cycle, which the total order breaks in favour of the prefix.
            let (pa, pb) = (parse(a), parse(b));
            let (o, k, i) = decide(&pa, &pb, Mode::Total);
            assert_eq!(o, got);
            let p = prefix(&pa, k, i);
            assert_eq!(
                compare_parsed(&pa, &p, Mode::Maven),
                got,
                "{a:?} vs its prefix"
            );
            assert_eq!(compare_parsed(&p, &pb, Mode::Maven), got, "prefix vs {b:?}");
        }
        // Cycles need odd mixtures (`1--a1`, `1.0.alpha.1`): a small share of random pairs.
        assert!(
            differ * 20 < RANDOM.lines().count(),
            "{differ} pairs differ"
        );
    }

    #[test]
    fn real_versions_are_ordered_exactly_as_mvn_orders_them() {
        for (a, b, want) in fixture(REAL) {
            assert_eq!(compare(a, b), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn mvn_cycles_are_broken_by_the_common_prefix() {
        // mvn 3.8.7: 1-a < 1--a1 < 1 < 1-a.
        assert_eq!(maven("1-a", "1--a1"), Less);
        assert_eq!(maven("1--a1", "1"), Less);
        assert_eq!(maven("1", "1-a"), Less);
        assert_order(&["1--a1", "1", "1-a"]);
        // 31.0.1-jre > 31-jre, as mvn says; 31.0.alpha.1 is below 31, so below 31-jre too.
        assert_order(&["31.0.alpha.1", "31", "31-jre", "31.0.1-jre"]);
        assert_eq!(maven("31.0.alpha.1", "31-jre"), Greater);
    }

    #[test]
    fn a_long_chain_of_hyphens_needs_no_recursion() {
        let a = "1-".repeat(200_000);
        let b = format!("{a}2");
        assert_eq!(compare(&a, &b), Less);
        assert_eq!(compare(&a, &a), Equal);
    }
}
