//! The clients the Maven e2e tests drive, from Debian's packages (CLIENTS.md's Maven row):
//! mvn 3.8.7 with the plugins the fixtures pin (found in `/usr/share/maven-repo`, which the
//! tests mirror `central` onto), Gradle 4.4.1 and Apache Ivy 2.5. Whatever is missing is
//! installed with one `apt-get install` call.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell;

/// Debian's Maven client and the plugins the fixtures pin, plus Gradle and Ivy.
const PACKAGES: &[&str] = &[
    "maven-debian-helper",
    "libmaven-resolver-transport-http-java",
    "libmaven-deploy-plugin-java",
    "libmaven-install-plugin-java",
    "libmaven-dependency-plugin-java",
    "libmaven-jar-plugin-java",
    "libmaven-compiler-plugin-java",
    "libmaven-resources-plugin-java",
    "libmaven-source-plugin-java",
    "libmaven-clean-plugin-java",
    "libsurefire-java",
    "gradle",
    "ivy",
];

/// The local Maven repository Debian's Java packages install into.
const MAVEN_REPO: &str = "/usr/share/maven-repo";
const IVY_JAR: &str = "/usr/share/java/ivy.jar";

/// Installs what the Maven suite needs and returns the environment that tells the tests where.
pub fn prepare(target: &Path) -> Result<Vec<(String, String)>> {
    let _ = target;
    let mut missing = missing_packages()?;
    // nuget (mono) and go come in the same apt call: apt's lock admits one install at a time.
    missing.extend(crate::e2e_nuget::missing_packages());
    missing.extend(crate::e2e_go::missing_packages());
    if !missing.is_empty() {
        println!("maven e2e: installing {}", missing.join(" "));
        shell::apt_install(&missing)?;
    }
    let mvn = shell::which("mvn").context("mvn is still missing after installing maven")?;
    let gradle =
        shell::which("gradle").context("gradle is still missing after installing gradle")?;
    let java = shell::which("java").context("java is missing (maven-debian-helper brings it)")?;
    if !Path::new(IVY_JAR).is_file() {
        bail!("{IVY_JAR} is missing after installing ivy");
    }
    let mvn_version = first_line(&shell::output(Command::new(&mvn).args(["-B", "-v"]))?);
    let gradle_version = shell::output(Command::new(&gradle).arg("-v"))?
        .lines()
        .find(|l| l.starts_with("Gradle "))
        .unwrap_or("Gradle (unknown version)")
        .to_string();
    // Debian's build calls itself "non official version": dpkg knows the release.
    let ivy_version =
        shell::output(Command::new("dpkg-query").args(["-W", "-f", "${Version}", "ivy"]))
            .or_else(|_| shell::output(Command::new(&java).args(["-jar", IVY_JAR, "-version"])))
            .map(|v| first_line(&v))?;
    println!(
        "maven e2e clients: {} ({mvn_version}), {} ({gradle_version}), {IVY_JAR} (ivy {ivy_version})",
        mvn.display(),
        gradle.display()
    );
    Ok(vec![
        ("PACKYARD_E2E_MVN".into(), mvn.display().to_string()),
        ("PACKYARD_E2E_GRADLE".into(), gradle.display().to_string()),
        ("PACKYARD_E2E_IVY_JAR".into(), IVY_JAR.into()),
        ("PACKYARD_E2E_MAVEN_REPO".into(), MAVEN_REPO.into()),
    ])
}

/// The packages of [`PACKAGES`] dpkg does not list as installed (all of them without dpkg).
fn missing_packages() -> Result<Vec<&'static str>> {
    if shell::which("dpkg-query").is_none() {
        return Ok(PACKAGES.to_vec());
    }
    // dpkg-query exits 1 when a package is unknown; read its stdout either way.
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${Status}\\n"])
        .args(PACKAGES)
        .output()
        .context("running dpkg-query")?;
    let listed = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = listed
        .lines()
        .filter(|l| l.ends_with(" install ok installed"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    Ok(PACKAGES
        .iter()
        .copied()
        .filter(|p| !installed.contains(p))
        .collect())
}

/// The first line of a version banner, without the ANSI colour codes mvn prints even with -B.
fn first_line(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `ESC [ ... letter`.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain.lines().next().unwrap_or_default().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_banners_lose_their_colours() {
        assert_eq!(
            first_line("\u{1b}[1mApache Maven 3.8.7\u{1b}[m\nMaven home: /usr/share/maven\n"),
            "Apache Maven 3.8.7"
        );
        assert_eq!(first_line(""), "");
    }
}
