use super::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

fn config_in(dir: &Path, hostname: &str) -> Config {
    Config {
        hostname: hostname.into(),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    }
}

fn connector(roots: &[CertificateDer<'static>]) -> TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TLS echo server on 127.0.0.1 that serves one connection per accepted socket.
async fn echo_server(acceptor: TlsAcceptor) -> std::net::SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let tls = acceptor.accept(sock).await.unwrap();
                let mut tls = AsyncBufReader::new(tls);
                let mut line = String::new();
                while tls.read_line(&mut line).await.unwrap() > 0 {
                    tls.get_mut().write_all(line.as_bytes()).await.unwrap();
                    line.clear();
                }
            });
        }
    });
    addr
}

type Client = AsyncBufReader<tokio_rustls::client::TlsStream<TcpStream>>;

async fn connect(
    addr: std::net::SocketAddr,
    roots: &[CertificateDer<'static>],
    name: ServerName<'static>,
) -> Result<Client, std::io::Error> {
    let sock = TcpStream::connect(addr).await?;
    let tls = connector(roots).connect(name, sock).await?;
    Ok(AsyncBufReader::new(tls))
}

async fn echo(client: &mut Client, text: &str) -> String {
    client
        .get_mut()
        .write_all(format!("{text}\n").as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    client.read_line(&mut line).await.unwrap();
    line
}

fn served_leaf(client: &Client) -> CertificateDer<'static> {
    let (_, conn) = client.get_ref().get_ref();
    conn.peer_certificates().unwrap()[0].clone().into_owned()
}

fn name(s: &str) -> ServerName<'static> {
    ServerName::try_from(s.to_owned()).unwrap()
}

#[tokio::test]
async fn self_signed_certificate_is_generated_served_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path(), "mail.example.test");
    let acceptor = TlsAcceptor::load(&config).unwrap();

    let (cert_path, key_path) = self_signed_paths(dir.path());
    let mode = fs::metadata(&key_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let on_disk = read_chain(&cert_path).unwrap();
    assert_eq!(on_disk, acceptor.resolver().chain());

    let addr = echo_server(acceptor).await;
    for server_name in [
        name("mail.example.test"),
        name("localhost"),
        ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into()),
        ServerName::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST).into()),
    ] {
        let mut client = connect(addr, &on_disk, server_name).await.unwrap();
        assert_eq!(echo(&mut client, "a1 NOOP").await, "a1 NOOP\n");
    }
    // The certificate names only what it should.
    let err = connect(addr, &on_disk, name("other.example")).await;
    assert!(err.is_err());

    // The next start reuses the same pair.
    let again = TlsAcceptor::load(&config).unwrap();
    assert_eq!(again.resolver().chain(), on_disk);
    assert_eq!(
        load_server_config(&config).unwrap().alpn_protocols,
        Vec::<Vec<u8>>::new()
    );
}

#[test]
fn generated_certificate_is_valid_for_825_days_and_renewed_near_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let (first, _) = self_signed(dir.path(), "localhost", now).unwrap();
    let end = validity::not_after(&first[0]).unwrap();
    let expected = now + SELF_SIGNED_VALIDITY;
    let diff = end
        .duration_since(expected)
        .unwrap_or_else(|e| e.duration());
    assert!(diff < Duration::from_secs(2), "{diff:?}");

    let later = now + Duration::from_secs(700 * 86400);
    let (kept, _) = self_signed(dir.path(), "localhost", later).unwrap();
    assert_eq!(kept, first);
    let near_expiry = now + Duration::from_secs(800 * 86400);
    let (renewed, _) = self_signed(dir.path(), "localhost", near_expiry).unwrap();
    assert_ne!(renewed, first);
    assert!(validity::not_after(&renewed[0]).unwrap() > near_expiry + RENEW_BEFORE);
}

#[test]
fn a_missing_half_is_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let (first, _) = self_signed(dir.path(), "localhost", now).unwrap();
    let (cert_path, _) = self_signed_paths(dir.path());
    fs::remove_file(&cert_path).unwrap();
    let (second, _) = self_signed(dir.path(), "localhost", now).unwrap();
    assert_ne!(first, second);
    CertResolver::load(&config_in(dir.path(), "localhost")).unwrap();
}

/// Writes a fresh self-signed pair for `host` to `dir` and returns the paths and leaf.
fn write_pair(dir: &Path, host: &str) -> (PathBuf, PathBuf, CertificateDer<'static>) {
    let (cert_pem, key_pem) = generate(host, SystemTime::now()).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    fs::write(&cert, &cert_pem).unwrap();
    fs::write(&key, &key_pem).unwrap();
    let leaf = read_chain(&cert).unwrap().remove(0);
    (cert, key, leaf)
}

#[tokio::test]
async fn configured_files_are_served_and_reload_swaps_them() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, first) = write_pair(dir.path(), "localhost");
    let mut config = config_in(&dir.path().join("data"), "localhost");
    config.tls.cert_file = cert.clone();
    config.tls.key_file = key.clone();
    let acceptor = TlsAcceptor::load(&config).unwrap();
    // Configured files mean nothing is generated.
    assert!(!dir.path().join("data").exists());
    let addr = echo_server(acceptor.clone()).await;

    let roots_old = [first.clone()];
    let mut old_client = connect(addr, &roots_old, name("localhost")).await.unwrap();
    assert_eq!(served_leaf(&old_client), first);

    let (_, _, second) = write_pair(dir.path(), "localhost");
    acceptor.reload().unwrap();
    let roots_new = [second.clone()];
    let mut new_client = connect(addr, &roots_new, name("localhost")).await.unwrap();
    assert_eq!(served_leaf(&new_client), second);
    assert_eq!(echo(&mut new_client, "new").await, "new\n");
    // The connection made before the reload goes on undisturbed.
    assert_eq!(echo(&mut old_client, "still here").await, "still here\n");
    // Clients that trust only the old certificate now fail.
    assert!(connect(addr, &roots_old, name("localhost")).await.is_err());
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (good_cert, good_key, _) = write_pair(dir.path(), "localhost");
    let other = tempfile::tempdir().unwrap();
    let (_, other_key, _) = write_pair(other.path(), "localhost");
    let garbage = dir.path().join("garbage.pem");
    fs::write(&garbage, "this is not PEM at all\n").unwrap();
    let broken = dir.path().join("broken.pem");
    fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");

    let load = |cert: &Path, key: &Path| {
        let mut config = config_in(dir.path(), "localhost");
        config.tls.cert_file = cert.to_path_buf();
        config.tls.key_file = key.to_path_buf();
        CertResolver::load(&config)
    };
    assert!(
        matches!(load(&garbage, &good_key), Err(Error::NoCertificate { path }) if path == garbage)
    );
    assert!(
        matches!(load(&broken, &good_key), Err(Error::InvalidPem { path, .. }) if path == broken)
    );
    assert!(
        matches!(load(&missing, &good_key), Err(Error::TlsFileRead { path, .. }) if path == missing)
    );
    assert!(
        matches!(load(&good_cert, &good_cert), Err(Error::NoPrivateKey { path }) if path == good_cert)
    );
    assert!(matches!(
        load(&good_cert, &garbage),
        Err(Error::NoPrivateKey { .. })
    ));
    match load(&good_cert, &other_key) {
        Err(e @ Error::CertificateKeyMismatch { .. }) => {
            assert!(e.to_string().contains("does not fit"), "{e}");
        }
        other => panic!("unexpected {other:?}"),
    }

    // A failed reload keeps the certificate in use.
    let resolver = load(&good_cert, &good_key).unwrap();
    let before = resolver.chain();
    fs::write(&good_cert, "oops").unwrap();
    assert!(matches!(
        resolver.reload(),
        Err(Error::NoCertificate { .. })
    ));
    assert_eq!(resolver.chain(), before);
}

#[test]
fn corrupt_generated_files_are_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path(), "localhost");
    CertResolver::load(&config).unwrap();
    let (cert_path, _) = self_signed_paths(dir.path());
    fs::write(&cert_path, "junk").unwrap();
    assert!(matches!(
        CertResolver::load(&config),
        Err(Error::NoCertificate { .. })
    ));
    assert_eq!(fs::read_to_string(&cert_path).unwrap(), "junk");
}

#[tokio::test(start_paused = true)]
async fn silent_clients_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let acceptor = TlsAcceptor::load(&config_in(dir.path(), "localhost")).unwrap();
    let (server_io, _client_io) = tokio::io::duplex(4096);
    match acceptor.accept(server_io).await {
        Err(Error::TlsHandshakeTimeout(d)) => assert_eq!(d, Duration::from_secs(30)),
        other => panic!("unexpected {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn plaintext_instead_of_a_handshake_fails() {
    let dir = tempfile::tempdir().unwrap();
    let acceptor = TlsAcceptor::load(&config_in(dir.path(), "localhost")).unwrap();
    let (server_io, mut client_io) = tokio::io::duplex(4096);
    client_io.write_all(b"a1 CAPABILITY\r\n").await.unwrap();
    match acceptor.accept(server_io).await {
        Err(Error::TlsHandshake(_)) => {}
        other => panic!("unexpected {:?}", other.map(|_| ())),
    }
}

#[test]
fn invalid_hostname_cannot_be_certified() {
    assert!(matches!(
        generate("mäil.example", SystemTime::now()),
        Err(Error::CertificateGeneration { .. })
    ));
}
