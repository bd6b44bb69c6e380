//! SASL PLAIN (RFC 4616) and LOGIN as pure code: mechanism names, base64 client
//! responses, and an exchange state machine the IMAP, submission and ManageSieve
//! sessions drive line by line.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::{Error, Secret};

/// Longest user name or password accepted. RFC 4616 2 requires at least 255 octets.
pub const MAX_FIELD_LEN: usize = 1024;
/// Longest base64 response line accepted, checked before decoding so an oversized
/// line costs nothing: room for authzid, authcid and password at `MAX_FIELD_LEN`.
pub const MAX_RESPONSE_LEN: usize = 4 * (3 * MAX_FIELD_LEN + 2).div_ceil(3);

/// Clients differ on padding; accepting either is harmless.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// "Username:" and "Password:", the challenges every LOGIN client expects
/// (draft-murchison-sasl-login-00 2).
const LOGIN_USERNAME: &str = "VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "UGFzc3dvcmQ6";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    /// Mechanism names are case-insensitive on the wire (RFC 9051 6.2.2 auth-type is
    /// an atom; RFC 4954 4 compares them case-insensitively).
    pub fn parse(name: &str) -> Option<Mechanism> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Mechanism::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Mechanism::Login)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// What a finished exchange yields.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret<String>,
}

/// A client's answer to a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Data(Vec<u8>),
    /// RFC 9051 6.2.2, RFC 4954 4, RFC 5804 2.1: a lone "*" cancels.
    Cancel,
}

/// Decodes a response line (CRLF already removed).
pub fn decode_response(line: &str) -> Result<Response, Error> {
    let line = line.trim();
    if line == "*" {
        return Ok(Response::Cancel);
    }
    decode_base64(line).map(Response::Data)
}

/// Decodes a SASL-IR initial response (RFC 4959 3, RFC 4954 4): "=" stands for an
/// empty one, since an empty argument cannot be sent.
pub fn decode_initial_response(arg: &str) -> Result<Vec<u8>, Error> {
    let arg = arg.trim();
    if arg == "=" {
        return Ok(Vec::new());
    }
    if arg.is_empty() {
        return Err(Error::MalformedSasl("empty initial response (send \"=\")"));
    }
    decode_base64(arg)
}

/// Encodes a challenge for the wire.
pub fn encode_challenge(data: &[u8]) -> String {
    BASE64.encode(data)
}

fn decode_base64(text: &str) -> Result<Vec<u8>, Error> {
    if text.len() > MAX_RESPONSE_LEN {
        return Err(Error::MalformedSasl("response too long"));
    }
    BASE64
        .decode(text)
        .map_err(|_| Error::MalformedSasl("invalid base64"))
}

/// RFC 4616 2: `[authzid] NUL authcid NUL passwd`. We do not let one user act as
/// another, so authzid must be empty or equal to authcid.
pub fn decode_plain(message: &[u8]) -> Result<Credentials, Error> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(passwd), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::MalformedSasl(
            "expected authzid NUL user NUL password",
        ));
    };
    let username = field(authcid, "empty user name")?;
    let password = field(passwd, "empty password")?;
    if !authzid.is_empty() && authzid != authcid {
        return Err(Error::AuthzidNotPermitted);
    }
    Ok(Credentials {
        username,
        password: Secret::new(password),
    })
}

/// One user name or password: non-empty UTF-8 without NUL, at most MAX_FIELD_LEN.
fn field(bytes: &[u8], empty: &'static str) -> Result<String, Error> {
    if bytes.is_empty() {
        return Err(Error::MalformedSasl(empty));
    }
    if bytes.len() > MAX_FIELD_LEN {
        return Err(Error::MalformedSasl("user name or password too long"));
    }
    if bytes.contains(&0) {
        return Err(Error::MalformedSasl("NUL in user name or password"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::MalformedSasl("not UTF-8"))
}

/// What the server sends next.
#[derive(Debug, Clone)]
pub enum Step {
    /// A base64 challenge to send (`+ ...` in IMAP, `334 ...` in SMTP, a string in
    /// ManageSieve); the client's answer goes to [`Exchange::respond`].
    Challenge(String),
    /// The exchange is over; check these credentials.
    Done(Credentials),
}

#[derive(Debug)]
enum State {
    Start,
    PlainMessage,
    LoginUsername,
    LoginPassword { username: String },
    Finished,
}

/// One authentication exchange: call [`Exchange::start`] once, then
/// [`Exchange::respond`] with each client line until it yields [`Step::Done`].
#[derive(Debug)]
pub struct Exchange {
    mechanism: Mechanism,
    state: State,
}

impl Exchange {
    pub fn new(mechanism: Mechanism) -> Exchange {
        Exchange {
            mechanism,
            state: State::Start,
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Begins with the SASL-IR initial response, if the command carried one.
    pub fn start(&mut self, initial_response: Option<&str>) -> Result<Step, Error> {
        if !matches!(self.state, State::Start) {
            return Err(Error::MalformedSasl("exchange already started"));
        }
        let initial = initial_response.map(decode_initial_response).transpose()?;
        match (self.mechanism, initial) {
            (Mechanism::Plain, None) => {
                // RFC 4616 2: the server sends an empty challenge.
                self.state = State::PlainMessage;
                Ok(Step::Challenge(String::new()))
            }
            (Mechanism::Plain, Some(message)) => self.finish(decode_plain(&message)),
            (Mechanism::Login, None) => {
                self.state = State::LoginUsername;
                Ok(Step::Challenge(LOGIN_USERNAME.into()))
            }
            // Some clients send the user name along with AUTH LOGIN.
            (Mechanism::Login, Some(username)) => self.login_username(&username),
        }
    }

    /// Takes the client's line answering the last challenge.
    pub fn respond(&mut self, line: &str) -> Result<Step, Error> {
        if matches!(self.state, State::Start) {
            return Err(Error::MalformedSasl("exchange not started"));
        }
        let data = match decode_response(line) {
            Ok(Response::Data(data)) => data,
            Ok(Response::Cancel) => {
                self.state = State::Finished;
                return Err(Error::SaslCancelled);
            }
            Err(e) => {
                self.state = State::Finished;
                return Err(e);
            }
        };
        match std::mem::replace(&mut self.state, State::Finished) {
            State::PlainMessage => self.finish(decode_plain(&data)),
            State::LoginUsername => self.login_username(&data),
            State::LoginPassword { username } => {
                let password = field(&data, "empty password")?;
                Ok(Step::Done(Credentials {
                    username,
                    password: Secret::new(password),
                }))
            }
            State::Start | State::Finished => {
                Err(Error::MalformedSasl("exchange already finished"))
            }
        }
    }

    fn login_username(&mut self, data: &[u8]) -> Result<Step, Error> {
        let username = field(data, "empty user name").inspect_err(|_| {
            self.state = State::Finished;
        })?;
        self.state = State::LoginPassword { username };
        Ok(Step::Challenge(LOGIN_PASSWORD.into()))
    }

    fn finish(&mut self, result: Result<Credentials, Error>) -> Result<Step, Error> {
        self.state = State::Finished;
        result.map(Step::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        BASE64.encode(s)
    }

    fn done(step: Result<Step, Error>) -> (String, String) {
        match step {
            Ok(Step::Done(c)) => (c.username, c.password.into_inner()),
            other => panic!("expected Done, got {other:?}"),
        }
    }

    fn challenge(step: Result<Step, Error>) -> String {
        match step {
            Ok(Step::Challenge(c)) => c,
            other => panic!("expected Challenge, got {other:?}"),
        }
    }

    fn malformed(result: Result<impl std::fmt::Debug, Error>) -> &'static str {
        match result {
            Err(Error::MalformedSasl(reason)) => reason,
            other => panic!("expected MalformedSasl, got {other:?}"),
        }
    }

    #[test]
    fn mechanism_names() {
        assert_eq!(Mechanism::parse("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::parse("LOGIN"), Some(Mechanism::Login));
        assert_eq!(Mechanism::parse("CRAM-MD5"), None);
        assert_eq!(Mechanism::Plain.name(), "PLAIN");
        assert_eq!(
            LOGIN_USERNAME,
            encode_challenge(b"Username:"),
            "draft-murchison-sasl-login"
        );
        assert_eq!(LOGIN_PASSWORD, encode_challenge(b"Password:"));
    }

    #[test]
    fn plain_rfc4616_examples() {
        // RFC 4616 4: "\0tim\0tanstaaftanstaaf" and "Ursel\0Kurt\0xipj3plmq".
        let c = decode_plain(b"\0tim\0tanstaaftanstaaf").unwrap();
        assert_eq!(c.username, "tim");
        assert_eq!(c.password.expose(), "tanstaaftanstaaf");
        assert!(matches!(
            decode_plain(b"Ursel\0Kurt\0xipj3plmq"),
            Err(Error::AuthzidNotPermitted)
        ));
        let c = decode_plain(b"a@example.org\0a@example.org\0p w").unwrap();
        assert_eq!(c.password.expose(), "p w");
        let c = decode_plain("\0jösé\0pässwörd".as_bytes()).unwrap();
        assert_eq!(c.username, "jösé");
    }

    #[test]
    fn plain_rejects_bad_messages() {
        let long = vec![b'x'; MAX_FIELD_LEN + 1];
        let mut over = b"\0user\0".to_vec();
        over.extend_from_slice(&long);
        let cases: [(&[u8], &str); 9] = [
            (b"", "expected authzid NUL user NUL password"),
            (b"user\0pass", "expected authzid NUL user NUL password"),
            (b"\0user", "expected authzid NUL user NUL password"),
            (b"\0user\0pa\0ss", "expected authzid NUL user NUL password"),
            (b"\0\0pass", "empty user name"),
            (b"\0user\0", "empty password"),
            (b"\0\xff\xfe\0pass", "not UTF-8"),
            (b"\0user\0\xc3", "not UTF-8"),
            (&over, "user name or password too long"),
        ];
        for (input, reason) in cases {
            assert_eq!(malformed(decode_plain(input)), reason, "{input:?}");
        }
        let mut max = b"\0user\0".to_vec();
        max.extend_from_slice(&long[1..]);
        assert!(decode_plain(&max).is_ok());
    }

    #[test]
    fn responses() {
        assert_eq!(decode_response("*").unwrap(), Response::Cancel);
        assert_eq!(decode_response(" * ").unwrap(), Response::Cancel);
        assert_eq!(decode_response("").unwrap(), Response::Data(vec![]));
        assert_eq!(
            decode_response("dGVzdA==").unwrap(),
            Response::Data(b"test".to_vec())
        );
        assert_eq!(
            decode_response("dGVzdA").unwrap(),
            Response::Data(b"test".to_vec())
        );
        for bad in ["!!!!", "dGV zdA==", "**", "=", "d"] {
            assert_eq!(malformed(decode_response(bad)), "invalid base64", "{bad}");
        }
        let huge = "A".repeat(MAX_RESPONSE_LEN + 4);
        assert_eq!(malformed(decode_response(&huge)), "response too long");
        assert!(decode_initial_response("=").unwrap().is_empty());
        assert_eq!(
            decode_initial_response("dGVzdA==").unwrap(),
            b"test".to_vec()
        );
        assert!(decode_initial_response("").is_err());
        assert!(decode_initial_response("*").is_err());
    }

    #[test]
    fn plain_exchange_with_and_without_initial_response() {
        let message = b64(b"\0alice@example.org\0secret");
        let mut ex = Exchange::new(Mechanism::Plain);
        assert_eq!(
            done(ex.start(Some(&message))),
            ("alice@example.org".into(), "secret".into())
        );
        assert!(ex.respond(&message).is_err());

        let mut ex = Exchange::new(Mechanism::Plain);
        assert_eq!(challenge(ex.start(None)), "");
        assert_eq!(
            done(ex.respond(&message)),
            ("alice@example.org".into(), "secret".into())
        );

        let mut ex = Exchange::new(Mechanism::Plain);
        assert_eq!(
            malformed(ex.start(Some("="))),
            "expected authzid NUL user NUL password"
        );
        let mut ex = Exchange::new(Mechanism::Plain);
        assert_eq!(malformed(ex.start(Some("%%%"))), "invalid base64");
    }

    #[test]
    fn login_exchange() {
        let mut ex = Exchange::new(Mechanism::Login);
        assert_eq!(challenge(ex.start(None)), LOGIN_USERNAME);
        assert_eq!(
            challenge(ex.respond(&b64(b"bob@example.org"))),
            LOGIN_PASSWORD
        );
        assert_eq!(
            done(ex.respond(&b64(b"pw"))),
            ("bob@example.org".into(), "pw".into())
        );
        assert_eq!(
            malformed(ex.respond(&b64(b"again"))),
            "exchange already finished"
        );

        // User name as initial response.
        let mut ex = Exchange::new(Mechanism::Login);
        assert_eq!(challenge(ex.start(Some(&b64(b"bob")))), LOGIN_PASSWORD);
        assert_eq!(done(ex.respond(&b64(b"pw"))), ("bob".into(), "pw".into()));

        let mut ex = Exchange::new(Mechanism::Login);
        assert_eq!(malformed(ex.start(Some("="))), "empty user name");
        let mut ex = Exchange::new(Mechanism::Login);
        challenge(ex.start(None));
        challenge(ex.respond(&b64(b"bob")));
        assert_eq!(malformed(ex.respond("")), "empty password");
    }

    #[test]
    fn cancel_and_garbage_end_the_exchange() {
        for mech in [Mechanism::Plain, Mechanism::Login] {
            let mut ex = Exchange::new(mech);
            challenge(ex.start(None));
            assert!(matches!(ex.respond("*"), Err(Error::SaslCancelled)));
            assert!(ex.respond(&b64(b"\0a\0b")).is_err());

            let mut ex = Exchange::new(mech);
            challenge(ex.start(None));
            assert_eq!(malformed(ex.respond("not base64!")), "invalid base64");
            assert!(ex.respond(&b64(b"\0a\0b")).is_err());
        }
        let mut ex = Exchange::new(Mechanism::Login);
        assert_eq!(malformed(ex.respond("dGVzdA==")), "exchange not started");
        challenge(ex.start(None));
        assert_eq!(malformed(ex.start(None)), "exchange already started");
    }

    #[test]
    fn credentials_do_not_print_the_password() {
        let c = decode_plain(b"\0tim\0tanstaaftanstaaf").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("tanstaaf"), "{shown}");
    }
}
