//! `packyard serve` over https (docs/tls.md), driven with the `curl` CLI against a
//! certificate made by `packyard admin self-signed-cert`.

use packyard_e2e::Server;

/// curl negotiates HTTP/2 and HTTP/1.1 by ALPN, trusting the self-signed certificate.
#[test]
fn curl_speaks_http2_and_http1_over_tls() {
    let server = Server::start_tls();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let url = format!("{}/-/health", server.url);
    for (flag, status_line) in [("--http2", "< HTTP/2 200"), ("--http1.1", "< HTTP/1.1 200")] {
        let r = server.curl(&["-v", flag, &url]);
        assert_eq!(r.status, 200, "{flag}");
        assert_eq!(r.text(), "Packyard OK", "{flag}");
        assert!(r.stderr.contains(status_line), "{flag}: {}", r.stderr);
    }
}
