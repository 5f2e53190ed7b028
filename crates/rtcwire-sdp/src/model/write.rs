//! [`Description`] → text, in the order browsers write.

use std::fmt::{self, Write};

use super::{Description, Media};
use crate::error::Error;
use crate::Sdp;

impl Description<'_> {
    /// Writes the description and parses the result, which checks every value against the
    /// grammar (a field holding a line break or an invalid token is an error, with the line
    /// it would have been written on).
    pub fn to_sdp(&self) -> Result<Sdp, Error> {
        Sdp::parse(&self.to_string())
    }

    /// Appends the description as text to `out` (CRLF line endings). The text is not
    /// checked; use [`to_sdp`](Self::to_sdp) for that.
    pub fn write_to(&self, out: &mut String) {
        out.reserve(self.media.len() * 1024 + 256);
        // Writing into a String cannot fail.
        let _ = self.emit(out);
    }

    fn emit(&self, w: &mut String) -> fmt::Result {
        write!(w, "v=0\r\no={}\r\ns={}\r\n", self.origin, self.name)?;
        if let Some(c) = &self.connection {
            write!(w, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(w, "b={b}\r\n")?;
        }
        write!(w, "t={}\r\n", self.timing)?;
        for g in &self.groups {
            write!(w, "a=group:{g}\r\n")?;
        }
        flag(w, self.extmap_allow_mixed, "extmap-allow-mixed")?;
        if let Some(m) = &self.msid_semantic {
            write!(w, "a=msid-semantic:{m}\r\n")?;
        }
        flag(w, self.ice_lite, "ice-lite")?;
        ice(
            w,
            self.ice_ufrag.as_deref(),
            self.ice_pwd.as_deref(),
            &self.ice_options,
        )?;
        for f in &self.fingerprints {
            write!(w, "a=fingerprint:{f}\r\n")?;
        }
        if let Some(s) = self.setup {
            write!(w, "a=setup:{s}\r\n")?;
        }
        if let Some(d) = self.direction {
            write!(w, "a={d}\r\n")?;
        }
        for e in &self.extmaps {
            write!(w, "a=extmap:{e}\r\n")?;
        }
        for a in &self.attributes {
            write!(w, "a={a}\r\n")?;
        }
        for m in &self.media {
            m.emit(w)?;
        }
        Ok(())
    }
}

impl Media<'_> {
    fn emit(&self, w: &mut String) -> fmt::Result {
        write!(w, "m={} {}", self.kind, self.port)?;
        if let Some(n) = self.port_count {
            write!(w, "/{n}")?;
        }
        write!(w, " {}", self.proto)?;
        for f in &self.formats {
            write!(w, " {f}")?;
        }
        w.write_str("\r\n")?;
        if let Some(c) = &self.connection {
            write!(w, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(w, "b={b}\r\n")?;
        }
        for c in &self.candidates {
            write!(w, "a=candidate:{c}\r\n")?;
        }
        flag(w, self.end_of_candidates, "end-of-candidates")?;
        ice(
            w,
            self.ice_ufrag.as_deref(),
            self.ice_pwd.as_deref(),
            &self.ice_options,
        )?;
        for f in &self.fingerprints {
            write!(w, "a=fingerprint:{f}\r\n")?;
        }
        if let Some(s) = self.setup {
            write!(w, "a=setup:{s}\r\n")?;
        }
        if let Some(mid) = &self.mid {
            write!(w, "a=mid:{mid}\r\n")?;
        }
        for e in &self.extmaps {
            let mut n = [0u8; 20];
            push(w, &["a=extmap:", decimal(u64::from(e.id), &mut n)]);
            if let Some(d) = e.direction {
                push(w, &["/", d.as_str()]);
            }
            push(w, &[" ", &e.uri]);
            if let Some(a) = &e.attributes {
                push(w, &[" ", a]);
            }
            w.push_str("\r\n");
        }
        flag(w, self.extmap_allow_mixed, "extmap-allow-mixed")?;
        if let Some(d) = self.direction {
            write!(w, "a={d}\r\n")?;
        }
        for m in &self.msids {
            write!(w, "a=msid:{m}\r\n")?;
        }
        flag(w, self.rtcp_mux, "rtcp-mux")?;
        flag(w, self.rtcp_rsize, "rtcp-rsize")?;
        // Codec lines are most of a browser offer: written without the formatting machinery.
        for c in &self.codecs {
            let mut pt = [0u8; 3];
            let pt = decimal(u64::from(c.payload_type), &mut pt);
            push(w, &["a=rtpmap:", pt, " ", &c.name, "/"]);
            let mut n = [0u8; 20];
            w.push_str(decimal(u64::from(c.clock_rate), &mut n));
            if let Some(ch) = c.channels {
                w.push('/');
                w.push_str(decimal(u64::from(ch), &mut n));
            }
            w.push_str("\r\n");
            for fb in &c.feedback {
                push(w, &["a=rtcp-fb:", pt, " ", fb, "\r\n"]);
            }
            if let Some(p) = &c.fmtp {
                push(w, &["a=fmtp:", pt, " ", p, "\r\n"]);
            }
        }
        for r in &self.rids {
            write!(w, "a=rid:{r}\r\n")?;
        }
        if let Some(s) = &self.simulcast {
            write!(w, "a=simulcast:{s}\r\n")?;
        }
        for g in &self.ssrc_groups {
            write!(w, "a=ssrc-group:{g}\r\n")?;
        }
        for s in &self.ssrcs {
            let mut n = [0u8; 20];
            push(
                w,
                &["a=ssrc:", decimal(u64::from(s.ssrc), &mut n), " ", &s.name],
            );
            if let Some(v) = &s.value {
                push(w, &[":", v]);
            }
            w.push_str("\r\n");
        }
        if let Some(p) = self.sctp_port {
            write!(w, "a=sctp-port:{p}\r\n")?;
        }
        if let Some(n) = self.max_message_size {
            write!(w, "a=max-message-size:{n}\r\n")?;
        }
        for a in &self.attributes {
            write!(w, "a={a}\r\n")?;
        }
        Ok(())
    }
}

/// Appends each part.
fn push(w: &mut String, parts: &[&str]) {
    for p in parts {
        w.push_str(p);
    }
}

/// Formats `n` in decimal into `buf` and returns the digits.
fn decimal(mut n: u64, buf: &mut [u8]) -> &str {
    let mut i = buf.len();
    while let Some(slot) = i.checked_sub(1).and_then(|j| buf.get_mut(j)) {
        i -= 1;
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(i..).unwrap_or_default()).unwrap_or_default()
}

fn flag(w: &mut String, on: bool, name: &str) -> fmt::Result {
    if on {
        write!(w, "a={name}\r\n")?;
    }
    Ok(())
}

fn ice(
    w: &mut String,
    ufrag: Option<&str>,
    pwd: Option<&str>,
    options: &[std::borrow::Cow<'_, str>],
) -> fmt::Result {
    if let Some(u) = ufrag {
        write!(w, "a=ice-ufrag:{u}\r\n")?;
    }
    if let Some(p) = pwd {
        write!(w, "a=ice-pwd:{p}\r\n")?;
    }
    if !options.is_empty() {
        w.write_str("a=ice-options:")?;
        for (i, o) in options.iter().enumerate() {
            if i > 0 {
                w.write_str(" ")?;
            }
            w.write_str(o)?;
        }
        w.write_str("\r\n")?;
    }
    Ok(())
}

impl fmt::Display for Description<'_> {
    /// The description as SDP text with CRLF line endings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimal_formats_every_width() {
        let mut b = [0u8; 20];
        for n in [0u64, 7, 10, 127, 90_000, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(decimal(n, &mut b), n.to_string());
        }
        let mut small = [0u8; 3];
        assert_eq!(decimal(127, &mut small), "127");
    }
}
