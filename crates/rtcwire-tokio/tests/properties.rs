//! Property tests (proptest) of what the driver parses from its user: TURN URLs (RFC 7065).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv6Addr;

use proptest::prelude::*;
use rtcwire_tokio::{TurnTransport, TurnUrl};

/// A host as a URL carries it: a DNS name, an IPv4 address, or an IPv6 one in brackets.
fn host() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,3}".prop_map(|h| (h.clone(), h)),
        any::<[u8; 4]>().prop_map(|o| {
            let h = format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
            (h.clone(), h)
        }),
        any::<[u16; 8]>().prop_map(|s| {
            let h = Ipv6Addr::from(s).to_string();
            (format!("[{h}]"), h)
        }),
    ]
}

proptest! {
    /// Whatever the text: an answer, never a panic; and what parses names a host without
    /// the characters a URL uses around it.
    #[test]
    fn any_text_parses_or_is_refused(url in ".{0,80}", user in ".{0,10}") {
        if let Ok(t) = TurnUrl::parse(&url, &user, "pw") {
            prop_assert!(url.starts_with("turn:") || url.starts_with("turns:"));
            prop_assert!(!t.host.is_empty() && !t.host.contains(['/', '@', ' ']));
            prop_assert_eq!(t.username, user);
        }
    }

    /// A URL made from its parts parses back to them, default ports included.
    #[test]
    fn a_url_made_of_parts_parses_back_to_them(
        secure in any::<bool>(),
        query in prop_oneof![Just(None), Just(Some("udp")), Just(Some("tcp")), Just(Some("TCP"))],
        (in_url, bare) in host(),
        port in proptest::option::of(any::<u16>()),
    ) {
        let mut url = format!("{}:{in_url}", if secure { "turns" } else { "turn" });
        if let Some(p) = port {
            url += &format!(":{p}");
        }
        if let Some(q) = query {
            url += &format!("?transport={q}");
        }
        let parsed = TurnUrl::parse(&url, "u", "p");
        let udp = query.is_some_and(|q| q == "udp");
        if secure && udp {
            // TLS runs over TCP only.
            prop_assert!(parsed.is_err(), "{url}");
            return Ok(());
        }
        let t = parsed.map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
        let transport = match (secure, query) {
            (true, _) => TurnTransport::Tls,
            (false, Some(q)) if q.eq_ignore_ascii_case("tcp") => TurnTransport::Tcp,
            (false, _) => TurnTransport::Udp,
        };
        prop_assert_eq!(t.transport, transport);
        prop_assert_eq!(&t.host, &bare);
        prop_assert_eq!(t.port, port.unwrap_or(if secure { 5349 } else { 3478 }));
        prop_assert_eq!((t.username.as_str(), t.password.as_str()), ("u", "p"));
    }
}
