//! The stateless state cookie (RFC 9260 §5.1.3): everything the listener needs to build the
//! association from a COOKIE ECHO, signed with HMAC-SHA256 under a key only it knows, so
//! that no state is kept before the peer proves it can receive at its address.

use ring::hmac;

use crate::Error;

/// Bytes of the signed content.
const BODY_LEN: usize = 4 * 5 + 2 * 2 + 1 + 8 + 4 * 2;
/// HMAC-SHA256 tag length.
const MAC_LEN: usize = 32;
/// Bytes of a cookie on the wire.
pub(crate) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// What a cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cookie {
    pub(crate) local_tag: u32,
    pub(crate) peer_tag: u32,
    pub(crate) local_initial_tsn: u32,
    pub(crate) peer_initial_tsn: u32,
    pub(crate) peer_a_rwnd: u32,
    pub(crate) peer_outbound_streams: u16,
    pub(crate) peer_inbound_streams: u16,
    /// bit 0: peer supports FORWARD-TSN, bit 1: peer supports RE-CONFIG.
    pub(crate) peer_features: u8,
    /// Milliseconds since the association's epoch when the cookie was made.
    pub(crate) created_ms: u64,
    /// RFC 9260 §5.2.2: the tags of the association that existed when an unexpected INIT
    /// was answered (0 when there was none), to recognise a restart (§5.2.4 case A).
    pub(crate) local_tie_tag: u32,
    pub(crate) peer_tie_tag: u32,
}

impl Cookie {
    pub(crate) fn seal(&self, key: &hmac::Key) -> [u8; COOKIE_LEN] {
        let mut out = [0u8; COOKIE_LEN];
        let mut b = Vec::with_capacity(BODY_LEN);
        b.extend_from_slice(&self.local_tag.to_be_bytes());
        b.extend_from_slice(&self.peer_tag.to_be_bytes());
        b.extend_from_slice(&self.local_initial_tsn.to_be_bytes());
        b.extend_from_slice(&self.peer_initial_tsn.to_be_bytes());
        b.extend_from_slice(&self.peer_a_rwnd.to_be_bytes());
        b.extend_from_slice(&self.peer_outbound_streams.to_be_bytes());
        b.extend_from_slice(&self.peer_inbound_streams.to_be_bytes());
        b.push(self.peer_features);
        b.extend_from_slice(&self.created_ms.to_be_bytes());
        b.extend_from_slice(&self.local_tie_tag.to_be_bytes());
        b.extend_from_slice(&self.peer_tie_tag.to_be_bytes());
        let tag = hmac::sign(key, &b);
        out[..BODY_LEN].copy_from_slice(&b);
        out[BODY_LEN..].copy_from_slice(tag.as_ref());
        out
    }

    /// Verifies the signature and decodes.
    pub(crate) fn open(key: &hmac::Key, bytes: &[u8]) -> Result<Cookie, Error> {
        if bytes.len() != COOKIE_LEN {
            return Err(Error::BadCookie);
        }
        let (body, mac) = bytes.split_at(BODY_LEN);
        hmac::verify(key, body, mac).map_err(|_| Error::BadCookie)?;
        let u32_at =
            |i: usize| u32::from_be_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
        let u16_at = |i: usize| u16::from_be_bytes([body[i], body[i + 1]]);
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&body[25..33]);
        Ok(Cookie {
            local_tag: u32_at(0),
            peer_tag: u32_at(4),
            local_initial_tsn: u32_at(8),
            peer_initial_tsn: u32_at(12),
            peer_a_rwnd: u32_at(16),
            peer_outbound_streams: u16_at(20),
            peer_inbound_streams: u16_at(22),
            peer_features: body[24],
            created_ms: u64::from_be_bytes(ms),
            local_tie_tag: u32_at(33),
            peer_tie_tag: u32_at(37),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cookie {
        Cookie {
            local_tag: 1,
            peer_tag: 2,
            local_initial_tsn: 3,
            peer_initial_tsn: 4,
            peer_a_rwnd: 5,
            peer_outbound_streams: 6,
            peer_inbound_streams: 7,
            peer_features: 3,
            created_ms: 9,
            local_tie_tag: 10,
            peer_tie_tag: 11,
        }
    }

    #[test]
    fn cookie_round_trips_and_rejects_tampering() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let sealed = sample().seal(&key);
        assert_eq!(Cookie::open(&key, &sealed).unwrap(), sample());
        for i in 0..sealed.len() {
            let mut bad = sealed;
            bad[i] ^= 1;
            assert_eq!(Cookie::open(&key, &bad), Err(Error::BadCookie));
        }
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[8; 32]);
        assert_eq!(Cookie::open(&other, &sealed), Err(Error::BadCookie));
        assert_eq!(Cookie::open(&key, &sealed[1..]), Err(Error::BadCookie));
    }
}
