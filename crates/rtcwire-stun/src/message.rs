//! The zero-copy message reader.

use std::net::SocketAddr;

use crate::attr::{self, AttrType, Attribute, ErrorCode, KNOWN_TYPES};
use crate::header::{field, MessageType, TransactionId, HEADER_LEN, MAGIC_COOKIE};
use crate::integrity::{fingerprint, IntegrityKey, INTEGRITY_LEN};
use crate::Error;

/// A STUN message borrowed from a received buffer.
///
/// [`Message::parse`] checks the header and walks the attributes once: every attribute fits,
/// FINGERPRINT is last, attributes that may appear once do, and it notes where
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are. Values are decoded lazily
/// by the accessors. Nothing is copied.
///
/// Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
/// (and after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT) are not covered by the HMAC:
/// RFC 8489 §14.5 says to ignore them. The accessors and [`Message::attributes`] skip them,
/// and [`Message::verify_integrity`] fails on a message that carries any.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    buf: &'a [u8],
    typ: MessageType,
    tid: TransactionId,
    integrity: Option<u32>,
    integrity_sha256: Option<u32>,
    fingerprint: Option<u32>,
    /// The first attribute found after the integrity attributes that they do not cover.
    after_integrity: Option<AttrType>,
    unknown_required: bool,
    /// Body offset + 1 of the first occurrence of each unique known type (0: absent),
    /// indexed by [`AttrType::unique_index`]: typed lookups are O(1).
    first: [u16; KNOWN_TYPES],
}

impl std::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Types<'m>(RawAttributes<'m>);
        impl std::fmt::Debug for Types<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list()
                    .entries(self.0.clone().map(|a| a.attr))
                    .finish()
            }
        }
        f.debug_struct("Message")
            .field("method", &self.typ.method)
            .field("class", &self.typ.class)
            .field("transaction_id", &self.tid)
            .field("attributes", &Types(self.raw_attributes()))
            .finish()
    }
}

/// One attribute as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The type.
    pub attr: AttrType,
    /// The value, without padding.
    pub value: &'a [u8],
    /// The padding bytes after the value (0–3 bytes, any content: RFC 5769 uses spaces).
    pub padding: &'a [u8],
    /// Offset of the attribute's header from the start of the message.
    pub offset: usize,
}

impl<'a> RawAttribute<'a> {
    /// Decodes the value; `tid` un-XORs the XOR address types.
    pub fn parse(&self, tid: &TransactionId) -> Result<Attribute<'a>, Error> {
        Attribute::parse(self.attr, self.value, tid)
    }
}

/// Iterator over the attributes of a parsed message.
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    body: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<RawAttribute<'a>> {
        // `parse` validated the layout; `get` keeps this total anyway.
        let rel = self.offset.checked_sub(HEADER_LEN)?;
        let head = self.body.get(rel..rel + 4)?;
        let attr = AttrType(u16::from_be_bytes([head[0], head[1]]));
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = self.body.get(rel + 4..rel + 4 + len)?;
        let padded = len.next_multiple_of(4);
        let padding = self.body.get(rel + 4 + len..rel + 4 + padded)?;
        let offset = self.offset;
        self.offset += 4 + padded;
        Some(RawAttribute {
            attr,
            value,
            padding,
            offset,
        })
    }
}

/// Where the walk is relative to the integrity attributes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Zone {
    Body,
    AfterIntegrity,
    AfterIntegritySha256,
    AfterFingerprint,
}

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

impl<'a> Message<'a> {
    /// Parses a whole STUN message; `buf` must hold exactly one message (a UDP datagram or
    /// a frame from [`TcpFramer`](crate::TcpFramer)).
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        let header = buf.get(..HEADER_LEN).ok_or(Error::Truncated {
            needed: HEADER_LEN,
            available: buf.len(),
        })?;
        let raw_type = be16(header, field::TYPE.start);
        if raw_type & 0xC000 != 0 {
            return Err(Error::NotStun);
        }
        let len = be16(header, field::LENGTH.start);
        let mut cookie = [0u8; 4];
        cookie.copy_from_slice(header.get(field::COOKIE).unwrap_or(&[0; 4]));
        let cookie = u32::from_be_bytes(cookie);
        if cookie != MAGIC_COOKIE {
            return Err(Error::BadMagicCookie(cookie));
        }
        if len % 4 != 0 {
            return Err(Error::LengthNotMultipleOf4(len));
        }
        let body = buf.get(HEADER_LEN..).unwrap_or(&[]);
        if body.len() != usize::from(len) {
            return Err(Error::LengthMismatch {
                declared: usize::from(len),
                available: body.len(),
            });
        }
        let mut tid = TransactionId::default();
        tid.0
            .copy_from_slice(header.get(field::TRANSACTION_ID).unwrap_or(&[0; 12]));

        let mut msg = Message {
            buf,
            typ: MessageType::from_u16(raw_type),
            tid,
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
            after_integrity: None,
            unknown_required: false,
            first: [0; KNOWN_TYPES],
        };
        let mut seen = 0u64;
        let mut zone = Zone::Body;
        let mut rel = 0usize;
        // Bounded: each step consumes at least 4 bytes of a body of at most 65532. Body
        // length and every padded attribute are multiples of 4, so an attribute header
        // always fits when `rel < body.len()`.
        while let Some(&[t0, t1, l0, l1]) = body.get(rel..rel + 4) {
            let offset = HEADER_LEN + rel;
            let attr = AttrType(u16::from_be_bytes([t0, t1]));
            let vlen = usize::from(u16::from_be_bytes([l0, l1]));
            let padded = vlen.next_multiple_of(4);
            if body.len() - rel - 4 < padded {
                return Err(Error::AttributePastEnd { attr, offset });
            }
            rel += 4 + padded;
            let at = offset as u32; // < 65556: header 20 + a body of at most 65532
            match (zone, attr) {
                (Zone::AfterFingerprint, _) => return Err(Error::AttributeAfterFingerprint(attr)),
                (_, AttrType::FINGERPRINT) => {
                    if vlen != 4 {
                        return Err(Error::BadAttributeLength { attr, len: vlen });
                    }
                    msg.fingerprint = Some(at);
                    zone = Zone::AfterFingerprint;
                    continue;
                }
                (Zone::Body | Zone::AfterIntegrity, AttrType::MESSAGE_INTEGRITY_SHA256) => {
                    if !(16..=32).contains(&vlen) || vlen % 4 != 0 {
                        return Err(Error::BadAttributeLength { attr, len: vlen });
                    }
                    msg.integrity_sha256 = Some(at);
                    zone = Zone::AfterIntegritySha256;
                    continue;
                }
                (Zone::Body, AttrType::MESSAGE_INTEGRITY) => {
                    if vlen != INTEGRITY_LEN {
                        return Err(Error::BadAttributeLength { attr, len: vlen });
                    }
                    msg.integrity = Some(at);
                    zone = Zone::AfterIntegrity;
                    continue;
                }
                (Zone::AfterIntegrity | Zone::AfterIntegritySha256, _) => {
                    if (attr == AttrType::MESSAGE_INTEGRITY && msg.integrity.is_some())
                        || (attr == AttrType::MESSAGE_INTEGRITY_SHA256
                            && msg.integrity_sha256.is_some())
                    {
                        return Err(Error::DuplicateAttribute(attr));
                    }
                    // Not covered by the HMAC: ignored, remembered for verification.
                    msg.after_integrity.get_or_insert(attr);
                    continue;
                }
                (Zone::Body, _) => {}
            }
            if let Some(i) = attr.unique_index() {
                let bit = 1u64 << i;
                if seen & bit != 0 {
                    return Err(Error::DuplicateAttribute(attr));
                }
                seen |= bit;
                if let Some(slot) = msg.first.get_mut(i as usize) {
                    // A body offset is below 65532, so offset + 1 fits.
                    *slot = (offset - HEADER_LEN + 1) as u16;
                }
            } else if attr.is_comprehension_required() && !attr.is_known() {
                msg.unknown_required = true;
            }
        }
        Ok(msg)
    }

    /// The whole message.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Method and class.
    #[must_use]
    pub fn message_type(&self) -> MessageType {
        self.typ
    }

    /// The transaction id.
    #[must_use]
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// Every attribute in wire order, including ones after the integrity attributes that
    /// RFC 8489 says to ignore (useful to re-encode a message byte for byte).
    #[must_use]
    pub fn raw_attributes(&self) -> RawAttributes<'a> {
        RawAttributes {
            body: self.buf.get(HEADER_LEN..).unwrap_or(&[]),
            offset: HEADER_LEN,
        }
    }

    /// The attributes to process, in wire order: those after the integrity attributes that
    /// they do not cover are skipped.
    pub fn attributes(&self) -> impl Iterator<Item = RawAttribute<'a>> + 'a {
        let this = *self;
        self.raw_attributes().filter(move |a| !this.is_ignored(a))
    }

    fn is_ignored(&self, a: &RawAttribute<'_>) -> bool {
        let after = |o: Option<u32>| o.is_some_and(|o| a.offset > o as usize);
        (after(self.integrity)
            && a.attr != AttrType::MESSAGE_INTEGRITY_SHA256
            && a.attr != AttrType::FINGERPRINT)
            || (after(self.integrity_sha256) && a.attr != AttrType::FINGERPRINT)
    }

    /// The first attribute of type `attr`, as on the wire.
    #[must_use]
    pub fn raw(&self, attr: AttrType) -> Option<RawAttribute<'a>> {
        let stored = match attr {
            AttrType::MESSAGE_INTEGRITY => Some(self.integrity),
            AttrType::MESSAGE_INTEGRITY_SHA256 => Some(self.integrity_sha256),
            AttrType::FINGERPRINT => Some(self.fingerprint),
            _ => None,
        };
        if let Some(at) = stored {
            return self.attribute_at(at? as usize);
        }
        if let Some(i) = attr.unique_index() {
            return self.first_of(i);
        }
        // Everything else is looked for before the first integrity attribute (or
        // FINGERPRINT): what follows them is either one of them or to be ignored.
        let end = [self.integrity, self.integrity_sha256, self.fingerprint]
            .into_iter()
            .flatten()
            .min()
            .map_or(self.buf.len(), |o| o as usize);
        let mut at = HEADER_LEN;
        // Bounded: each step advances by at least 4 within a validated layout.
        while at + 4 <= end {
            let t = be16(self.buf, at);
            if t == attr.0 {
                return self.attribute_at(at);
            }
            at += 4 + usize::from(be16(self.buf, at + 2)).next_multiple_of(4);
        }
        None
    }

    /// The attribute in slot `i` of the offset table.
    fn first_of(&self, i: u32) -> Option<RawAttribute<'a>> {
        let rel = usize::from(*self.first.get(i as usize)?).checked_sub(1)?;
        self.attribute_at(HEADER_LEN + rel)
    }

    fn attribute_at(&self, at: usize) -> Option<RawAttribute<'a>> {
        RawAttributes {
            body: self.buf.get(HEADER_LEN..)?,
            offset: at,
        }
        .next()
    }

    /// The first attribute of type `attr`, decoded.
    pub fn get(&self, attr: AttrType) -> Result<Option<Attribute<'a>>, Error> {
        self.raw(attr).map(|a| a.parse(&self.tid)).transpose()
    }

    /// Every attribute of type `attr` (XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS may repeat),
    /// decoded.
    pub fn get_all(
        &self,
        attr: AttrType,
    ) -> impl Iterator<Item = Result<Attribute<'a>, Error>> + 'a {
        let tid = self.tid;
        self.attributes()
            .filter(move |a| a.attr == attr)
            .map(move |a| a.parse(&tid))
    }

    /// Whether the message carries a comprehension-required attribute this crate does not
    /// know.
    #[must_use]
    pub fn has_unknown_comprehension_required(&self) -> bool {
        self.unknown_required
    }

    /// The unknown comprehension-required attribute types, for the UNKNOWN-ATTRIBUTES of a
    /// 420 answer.
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = AttrType> + 'a {
        self.attributes()
            .map(|a| a.attr)
            .filter(|t| t.is_comprehension_required() && !t.is_known())
    }

    /// `Err(UnknownComprehensionRequired)` naming the first unknown comprehension-required
    /// attribute, if there is one.
    pub fn check_comprehension(&self) -> Result<(), Error> {
        match self.unknown_comprehension_required().next() {
            Some(t) => Err(Error::UnknownComprehensionRequired(t)),
            None => Ok(()),
        }
    }

    /// Whether MESSAGE-INTEGRITY is present.
    #[must_use]
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether MESSAGE-INTEGRITY-SHA256 is present.
    #[must_use]
    pub fn has_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// Whether FINGERPRINT is present.
    #[must_use]
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// The header with its length field rewritten to end `end` bytes into the message.
    fn header_ending_at(&self, end: usize) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        if let Some(src) = self.buf.get(..HEADER_LEN) {
            h.copy_from_slice(src);
        }
        let len = (end - HEADER_LEN) as u16;
        h[field::LENGTH].copy_from_slice(&len.to_be_bytes());
        h
    }

    fn integrity_parts(
        &self,
        at: usize,
        value_len: usize,
    ) -> Option<([u8; HEADER_LEN], &'a [u8], &'a [u8])> {
        let header = self.header_ending_at(at + 4 + value_len);
        let covered = self.buf.get(HEADER_LEN..at)?;
        let tag = self.buf.get(at + 4..at + 4 + value_len)?;
        Some((header, covered, tag))
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1) with `key`.
    ///
    /// Fails if the attribute is missing, if the HMAC does not match, or if attributes other
    /// than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT follow it.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        const MI: AttrType = AttrType::MESSAGE_INTEGRITY;
        let at = self.integrity.ok_or(Error::MissingIntegrity(MI))? as usize;
        if let Some(t) = self.after_integrity {
            return Err(Error::AttributeAfterIntegrity(t));
        }
        let (header, covered, tag) = self
            .integrity_parts(at, INTEGRITY_LEN)
            .ok_or(Error::MissingIntegrity(MI))?;
        if key.verify_sha1(&header, covered, tag) {
            Ok(())
        } else {
            Err(Error::IntegrityMismatch(MI))
        }
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated) with `key`.
    ///
    /// Fails if the attribute is missing, if the HMAC does not match, or if attributes other
    /// than FINGERPRINT follow it.
    pub fn verify_integrity_sha256(&self, key: &IntegrityKey) -> Result<(), Error> {
        const MI: AttrType = AttrType::MESSAGE_INTEGRITY_SHA256;
        let at = self.integrity_sha256.ok_or(Error::MissingIntegrity(MI))? as usize;
        if let Some(t) = self.after_integrity {
            return Err(Error::AttributeAfterIntegrity(t));
        }
        let vlen = usize::from(be16(self.buf, at + 2));
        let (header, covered, tag) = self
            .integrity_parts(at, vlen)
            .ok_or(Error::MissingIntegrity(MI))?;
        if key.verify_sha256(&[&header, covered], tag) {
            Ok(())
        } else {
            Err(Error::IntegrityMismatch(MI))
        }
    }

    /// Verifies FINGERPRINT.
    pub fn verify_fingerprint(&self) -> Result<(), Error> {
        let at = self.fingerprint.ok_or(Error::MissingFingerprint)? as usize;
        // FINGERPRINT is last, so the header's length already covers it.
        let covered = self.buf.get(..at).ok_or(Error::MissingFingerprint)?;
        let mut v = [0u8; 4];
        v.copy_from_slice(
            self.buf
                .get(at + 4..at + 8)
                .ok_or(Error::MissingFingerprint)?,
        );
        let received = u32::from_be_bytes(v);
        let computed = fingerprint(covered);
        if received == computed {
            Ok(())
        } else {
            Err(Error::BadFingerprint { received, computed })
        }
    }
}

/// Typed accessors: each finds its attribute and decodes just that type, without going
/// through the [`Attribute`] enum.
macro_rules! getters {
    ($( $(#[$doc:meta])* $name:ident -> $ty:ty = $attr:ident, |$v:ident, $tid:ident| $decode:expr; )*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Result<Option<$ty>, Error> {
                    const ATTR: AttrType = AttrType::$attr;
                    const SLOT: Option<u32> = ATTR.unique_index();
                    let raw = match SLOT {
                        Some(i) => self.first_of(i),
                        None => self.raw(ATTR),
                    };
                    let Some(raw) = raw else {
                        return Ok(None);
                    };
                    let ($v, $tid): (&'a [u8], &TransactionId) = (raw.value, &self.tid);
                    let _ = $tid;
                    $decode.map(Some)
                }
            )*
        }
    };
}

getters! {
    /// USERNAME.
    username -> &'a str = USERNAME, |v, t| attr::text(ATTR, v, attr::MAX_USERNAME);
    /// REALM.
    realm -> &'a str = REALM, |v, t| attr::text(ATTR, v, attr::MAX_TEXT);
    /// NONCE.
    nonce -> &'a str = NONCE, |v, t| attr::text(ATTR, v, attr::MAX_TEXT);
    /// SOFTWARE.
    software -> &'a str = SOFTWARE, |v, t| attr::text(ATTR, v, attr::MAX_TEXT);
    /// ERROR-CODE.
    error_code -> ErrorCode<'a> = ERROR_CODE, |v, t| ErrorCode::parse(ATTR, v);
    /// XOR-MAPPED-ADDRESS, decoded.
    xor_mapped_address -> SocketAddr = XOR_MAPPED_ADDRESS,
        |v, t| attr::decode_address(ATTR, v, attr::XorMode::Xor(t));
    /// MAPPED-ADDRESS.
    mapped_address -> SocketAddr = MAPPED_ADDRESS,
        |v, t| attr::decode_address(ATTR, v, attr::XorMode::Plain);
    /// The first XOR-RELAYED-ADDRESS, decoded.
    xor_relayed_address -> SocketAddr = XOR_RELAYED_ADDRESS,
        |v, t| attr::decode_address(ATTR, v, attr::XorMode::Xor(t));
    /// The first XOR-PEER-ADDRESS, decoded.
    xor_peer_address -> SocketAddr = XOR_PEER_ADDRESS,
        |v, t| attr::decode_address(ATTR, v, attr::XorMode::Xor(t));
    /// PRIORITY (ICE).
    priority -> u32 = PRIORITY, |v, t| attr::be_u32(ATTR, v);
    /// ICE-CONTROLLING tie-breaker.
    ice_controlling -> u64 = ICE_CONTROLLING, |v, t| attr::be_u64(ATTR, v);
    /// ICE-CONTROLLED tie-breaker.
    ice_controlled -> u64 = ICE_CONTROLLED, |v, t| attr::be_u64(ATTR, v);
    /// LIFETIME in seconds.
    lifetime -> u32 = LIFETIME, |v, t| attr::be_u32(ATTR, v);
    /// CHANNEL-NUMBER.
    channel_number -> u16 = CHANNEL_NUMBER, |v, t| match Attribute::parse(ATTR, v, t)? {
        Attribute::ChannelNumber(n) => Ok(n),
        _ => Err(Error::BadAttributeLength { attr: ATTR, len: v.len() }),
    };
    /// DATA.
    data -> &'a [u8] = DATA, |v, t| Ok::<_, Error>(v);
}

impl Message<'_> {
    /// Whether USE-CANDIDATE is present (ICE nomination).
    #[must_use]
    pub fn use_candidate(&self) -> bool {
        self.raw(AttrType::USE_CANDIDATE).is_some()
    }
}
