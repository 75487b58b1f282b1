//! NuGet symbol packages through the real application (`server::app`) over the real catalog
//! (SQLite) and blob store (a folder): a `.snupkg` pushed after its `.nupkg` stores its
//! portable PDBs, the symbol server answers them by SSQP key when the `SymbolChecksum`
//! header matches, and every refusal leaves nothing behind.
#![cfg(feature = "nuget")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use actix_web::http::StatusCode;
use actix_web::{test, web};
use packyard::config::{self, Config};
use packyard::metrics::Metrics;
use packyard::{formats, server};
use packyard_core::model::*;
use packyard_core::Registry;
use sha2::{Digest, Sha256};

const ROOT: &str = "glpat-nugetsymbolsroottoken00000";
const NUGET: &str = "/api/v4/projects/acme%2Ftools/packages/nuget";
const GUID: [u8; 16] = [
    0xF6, 0x72, 0x7B, 0x49, 0x0A, 0x39, 0xFC, 0x44, 0x87, 0x8E, 0x5A, 0x2D, 0x63, 0xB6, 0xCC, 0x4B,
];
/// The SSQP signature of [`GUID`] (SSQP_Key_Conventions.md's example).
const SIGNATURE: &str = "497b72f6390a44fc878e5a2d63b6cc4bFFFFFFFF";

struct Env {
    _dir: tempfile::TempDir,
    config: Config,
    registry: web::Data<Registry>,
    project: Project,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let config = config::load(
        None,
        |k| match k {
            "PACKYARD_DATA_DIR" => Some(data.clone()),
            "PACKYARD_EXTERNAL_URL" => Some("http://packyard.test".into()),
            _ => None,
        },
        &[],
    )
    .unwrap();
    let registry = server::open_registry(&config).await.unwrap();
    registry.ensure_initial_root(ROOT).await.unwrap();
    let g = registry
        .create_group(NewGroup {
            name: "acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: String::new(),
        })
        .await
        .unwrap();
    let project = registry
        .create_project(NewProject {
            name: "tools".into(),
            path: "tools".into(),
            namespace: Namespace::Group(g.id),
            visibility: Visibility::Private,
            description: String::new(),
            registry_access: RegistryAccess::Enabled,
            creator_id: None,
        })
        .await
        .unwrap();
    Env {
        _dir: dir,
        config,
        registry: web::Data::new(registry),
        project,
    }
}

impl Env {
    /// The stored file names of Demo.Lib 1.2.0, oldest first.
    async fn files(&self) -> Vec<String> {
        let reads = self.registry.packages();
        let packages = reads
            .packages_by_name(self.project.id, "nuget", "demo.lib")
            .await
            .unwrap();
        let ids: Vec<PackageId> = packages.iter().map(|p| p.id).collect();
        let mut files = reads.package_files_of(&ids).await.unwrap();
        files.sort_by_key(|f| f.id.0);
        files.into_iter().map(|f| f.file_name).collect()
    }

    async fn reporter_token(&self) -> String {
        let u = self
            .registry
            .catalog()
            .create_user(NewUser {
                username: "rita".into(),
                name: "rita".into(),
                email: "rita@x".into(),
                is_admin: false,
                password_hash: None,
            })
            .await
            .unwrap();
        self.registry
            .catalog()
            .add_member(
                MemberSource::Project(self.project.id),
                u.id,
                AccessLevel::Reporter,
                None,
            )
            .await
            .unwrap();
        self.registry
            .create_personal_access_token(u.id, "t", &["api".to_owned()], None)
            .await
            .unwrap()
            .0
    }
}

macro_rules! app {
    ($env:expr) => {
        test::init_service(server::app(
            $env.registry.clone(),
            web::Data::new(Metrics::new()),
            web::Data::new(
                packyard_web::WebState::load(
                    &$env.registry,
                    formats::enabled(&$env.config),
                    packyard_web::WebConfig::default(),
                )
                .await
                .unwrap(),
            ),
            formats::enabled(&$env.config),
        ))
        .await
    };
}

/// A portable PDB as its spec lays it out: the metadata root (`BSJB`, "PDB v1.0", two
/// stream headers), the `#Pdb` stream (the 20-byte id: [`GUID`] and a stamp, an entry
/// point, the referenced tables) and a `#Strings` heap holding `strings`.
fn pdb(strings: &[u8]) -> Vec<u8> {
    let version = b"PDB v1.0\0\0\0\0";
    let mut id = GUID.to_vec();
    id.extend_from_slice(&[1, 2, 3, 4]);
    let pdb_stream = [id, vec![0; 12]].concat();
    let mut heap = b"\0".to_vec();
    heap.extend_from_slice(strings);
    while !heap.len().is_multiple_of(4) {
        heap.push(0);
    }
    let mut out = b"BSJB".to_vec();
    for v in [1u16, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(version.len() as u32).to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    let headers_len = (8 + 8) + (8 + 12);
    let first = (out.len() + headers_len) as u32;
    out.extend_from_slice(&first.to_le_bytes());
    out.extend_from_slice(&(pdb_stream.len() as u32).to_le_bytes());
    out.extend_from_slice(b"#Pdb\0\0\0\0");
    out.extend_from_slice(&(first + pdb_stream.len() as u32).to_le_bytes());
    out.extend_from_slice(&(heap.len() as u32).to_le_bytes());
    out.extend_from_slice(b"#Strings\0\0\0\0");
    out.extend(pdb_stream);
    out.extend(heap);
    out
}

/// The checksum debuggers send: SHA-256 of the PDB with its id zeroed.
fn checksum(pdb: &[u8]) -> String {
    let mut copy = pdb.to_vec();
    let at = copy.windows(16).position(|w| w == GUID).unwrap();
    copy[at..at + 20].fill(0);
    hex::encode(Sha256::digest(&copy))
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn nuspec(symbols: bool) -> Vec<u8> {
    let types = if symbols {
        "<packageTypes><packageType name=\"SymbolsPackage\"/></packageTypes>"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\"?><package><metadata><id>Demo.Lib</id><version>1.2.0</version><authors>a</authors><description>d</description>{types}</metadata></package>"
    )
    .into_bytes()
}

fn put(path: &str, token: &str, package: &[u8]) -> test::TestRequest {
    let mut body =
        b"--b0\r\nContent-Disposition: form-data; name=\"package\"; filename=\"p.snupkg\"\r\n\r\n"
            .to_vec();
    body.extend_from_slice(package);
    body.extend_from_slice(b"\r\n--b0--\r\n");
    test::TestRequest::put()
        .uri(&format!("{NUGET}{path}"))
        .insert_header(("X-NuGet-ApiKey", token.to_owned()))
        .insert_header(("Content-Type", "multipart/form-data; boundary=b0"))
        .set_payload(body)
}

fn symbol_file(key: &str, checksum: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::get()
        .uri(&format!("{NUGET}/symbolfiles/{key}"))
        .insert_header(("Private-Token", ROOT));
    if let Some(c) = checksum {
        req = req.insert_header(("SymbolChecksum", c.to_owned()));
    }
    req
}

#[actix_web::test]
async fn symbol_packages_are_pushed_after_their_package_and_served_by_key_and_checksum() {
    let env = env().await;
    let app = app!(env);
    let net8 = pdb(b"Demo net8.0");
    let net48 = pdb(b"Demo net48, built apart");
    let snupkg = zip_of(&[
        ("Demo.Lib.nuspec", &nuspec(true)),
        ("lib/net8.0/Demo.pdb", &net8),
        ("lib/net48/Demo.pdb", &net48),
    ]);
    let status = |res: &actix_web::dev::ServiceResponse<_>| {
        (res.status(), res.response().head().reason().to_owned())
    };

    // Before its package: refused, nothing stored.
    let res = test::call_service(&app, put("/symbolpackage", ROOT, &snupkg).to_request()).await;
    assert_eq!(
        status(&res),
        (
            StatusCode::BAD_REQUEST,
            "The package of these symbols is not in this project".into()
        )
    );
    assert!(env.files().await.is_empty());

    let nupkg = zip_of(&[
        ("Demo.Lib.nuspec", &nuspec(false)),
        ("lib/net8.0/Demo.dll", b"MZ"),
    ]);
    let res = test::call_service(&app, put("/", ROOT, &nupkg).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // A Windows PDB beside a good one refuses the whole package; nothing of it is stored.
    let mut msf = b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0".to_vec();
    msf.resize(4096, 0);
    let windows = zip_of(&[
        ("Demo.Lib.nuspec", &nuspec(true)),
        ("lib/net8.0/Demo.pdb", &net8),
        ("lib/net48/Demo.pdb", &msf),
    ]);
    let res = test::call_service(&app, put("/symbolpackage", ROOT, &windows).to_request()).await;
    assert_eq!(
        status(&res),
        (StatusCode::BAD_REQUEST, "Invalid symbol package".into())
    );
    let body: serde_json::Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`lib/net48/Demo.pdb` is a Windows PDB"),
        "{body}"
    );
    assert_eq!(env.files().await, ["demo.lib.1.2.0.nupkg"]);

    // A Reporter may not push symbols.
    let reporter = env.reporter_token().await;
    let res =
        test::call_service(&app, put("/symbolpackage", &reporter, &snupkg).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = test::call_service(&app, put("/symbolpackage", ROOT, &snupkg).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        env.files().await,
        [
            "demo.lib.1.2.0.nupkg",
            "demo.lib.1.2.0.snupkg",
            "lib%2Fnet8.0%2FDemo.pdb",
            "lib%2Fnet48%2FDemo.pdb"
        ]
    );

    // Both PDBs share a name and a GUID here; their checksums tell them apart.
    let key = format!("demo.pdb/{SIGNATURE}/demo.pdb");
    for pdb in [&net8, &net48] {
        let header = format!("SHA256:{}", checksum(pdb).to_ascii_uppercase());
        let res = test::call_service(&app, symbol_file(&key, Some(&header)).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/octet-stream"
        );
        assert_eq!(test::read_body(res).await, pdb.as_slice());
    }
    // The key in another case, the checksum second of two values.
    let header = format!("SHA256:{};SHA256:{}", "0".repeat(64), checksum(&net8));
    let upper = format!("Demo.PDB/{}/DEMO.pdb", SIGNATURE.to_ascii_uppercase());
    let res = test::call_service(&app, symbol_file(&upper, Some(&header)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, net8.as_slice());

    // No header: 400; a checksum or signature that matches nothing: 404.
    let res = test::call_service(&app, symbol_file(&key, None).to_request()).await;
    assert_eq!(
        status(&res),
        (StatusCode::BAD_REQUEST, "Missing checksum header".into())
    );
    let wrong = format!("SHA256:{}", "a".repeat(64));
    let res = test::call_service(&app, symbol_file(&key, Some(&wrong)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let other = format!("demo.pdb/{}/demo.pdb", SIGNATURE.replace('4', "5"));
    let header = format!("SHA256:{}", checksum(&net8));
    let res = test::call_service(&app, symbol_file(&other, Some(&header)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Anonymous, private project: asked for credentials.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("{NUGET}/symbolfiles/{key}"))
            .insert_header(("SymbolChecksum", header.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));

    // The group's symbol server answers from its projects; anonymous callers are asked
    // for credentials there too.
    let group = format!("/api/v4/groups/acme/-/packages/nuget/symbolfiles/{key}");
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&group)
            .insert_header(("Private-Token", ROOT))
            .insert_header(("SymbolChecksum", header.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(test::read_body(res).await, net8.as_slice());
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&group)
            .insert_header(("Private-Token", ROOT))
            .insert_header(("SymbolChecksum", wrong.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&group)
            .insert_header(("SymbolChecksum", header.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The same symbols again: a duplicate (the group does not allow them), nothing added.
    let res = test::call_service(&app, put("/symbolpackage", ROOT, &snupkg).to_request()).await;
    assert_eq!(
        status(&res),
        (
            StatusCode::CONFLICT,
            "Duplicate package is not allowed".into()
        )
    );
    assert_eq!(env.files().await.len(), 4);

    // Deleting the version takes its symbols with it.
    let res = test::call_service(
        &app,
        test::TestRequest::delete()
            .uri(&format!("{NUGET}/Demo.Lib/1.2.0"))
            .insert_header(("Private-Token", ROOT))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = test::call_service(&app, symbol_file(&key, Some(&header)).to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
