//! Application data: the queued paths (`write`, `send_with`, with `recycle`) and the
//! zero-copy one (`seal_in_place` / `handle_read_in_place`).

use super::{Connection, State, MAX_PLAINTEXT};
use crate::record::{ContentType, Records, Rejected, HEADER_LEN};
use crate::Error;
use rtcwire_proto::{Datagram, SansIo};
use std::time::Instant;

impl Connection {
    /// Sends one record of application data (at most [`MAX_PLAINTEXT`] bytes; keep it
    /// within the path MTU). The plaintext is copied once, into the record buffer, and
    /// sealed there; [`send_with`](Self::send_with) avoids even that copy.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_with(data.len(), |room| {
            room.copy_from_slice(data);
            data.len()
        })
        .map(|_| ())
    }

    /// Sends one record of application data that `fill` writes straight into the record
    /// buffer: it gets `max_len` bytes of room (at most [`MAX_PLAINTEXT`]) and returns how
    /// many it used; those bytes are sealed in place. This is how SCTP writes its packet into
    /// a DTLS record without a copy. Returns the plaintext length sent.
    pub fn send_with(
        &mut self,
        max_len: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, Error> {
        match &self.state {
            State::Connected => {}
            State::V13(e) if e.is_connected() => {}
            State::Closed => return Err(Error::Closed),
            _ => return Err(Error::NotConnected),
        }
        if max_len > MAX_PLAINTEXT {
            return Err(Error::RecordTooLarge(max_len));
        }
        if let State::V13(e) = &mut self.state {
            let mut d = self.core.buffer();
            let prefix = e.record_prefix_len();
            d.reserve(prefix + max_len + 17);
            d.resize(prefix + max_len, 0);
            let used = d.get_mut(prefix..).map_or(0, fill).min(max_len);
            d.truncate(prefix + used);
            if let Err(err) = e.seal_in_place(&mut d, 0) {
                self.core.keep_spare(d);
                return Err(err);
            }
            self.core.queue(d);
            return Ok(used);
        }
        let mut d = self.core.buffer();
        let prefix = self.core.records.prefix_len(1);
        d.reserve(prefix + max_len + self.core.records.overhead(1));
        d.resize(prefix + max_len, 0);
        let used = d.get_mut(prefix..).map_or(0, fill).min(max_len);
        d.truncate(prefix + used);
        if let Err(e) = self
            .core
            .records
            .seal_in_place(1, ContentType::ApplicationData, &mut d, 0)
        {
            self.core.keep_spare(d);
            return Err(e);
        }
        self.core.queue(d);
        Ok(used)
    }

    /// Bytes a record needs in front of its plaintext (header and explicit nonce) once
    /// connected: where [`seal_in_place`](Self::seal_in_place) wants the plaintext to start.
    #[must_use]
    pub fn record_prefix_len(&self) -> usize {
        if let State::V13(e) = &self.state {
            return e.record_prefix_len();
        }
        self.core.records.prefix_len(1)
    }

    /// Bytes a record adds to its plaintext in all (header, explicit nonce, AEAD tag): what
    /// to subtract from the path MTU for the layer above.
    #[must_use]
    pub fn record_overhead(&self) -> usize {
        if let State::V13(e) = &self.state {
            return e.record_overhead();
        }
        HEADER_LEN + self.core.records.overhead(1)
    }

    /// The zero-copy way out, in the shape of rtcwire-srtp's `protect_rtp`: the caller has
    /// put the plaintext in `buf[start + record_prefix_len()..]` (SCTP writes its packet
    /// there), and the connection writes the record header in front of it, encrypts it where
    /// it lies and appends the tag. `buf[start..]` is then one datagram, which the caller
    /// sends on the path itself; nothing is queued, copied or allocated.
    pub fn seal_in_place(&mut self, buf: &mut Vec<u8>, start: usize) -> Result<(), Error> {
        match &self.state {
            State::Connected => {}
            State::V13(e) if e.is_connected() => {}
            State::Closed => return Err(Error::Closed),
            _ => return Err(Error::NotConnected),
        }
        let plain = buf.len().saturating_sub(start + self.record_prefix_len());
        if plain > MAX_PLAINTEXT {
            return Err(Error::RecordTooLarge(plain));
        }
        if let State::V13(e) = &mut self.state {
            return e.seal_in_place(buf, start);
        }
        self.core
            .records
            .seal_in_place(1, ContentType::ApplicationData, buf, start)
    }

    /// The zero-copy way in: a datagram that is exactly one application-data record is
    /// authenticated and decrypted where it lies and its plaintext's range within
    /// `datagram` returned (valid until the caller reuses the buffer); nothing is queued,
    /// copied or allocated. Anything else (handshake, alerts, several records) takes the
    /// ordinary path of [`SansIo::handle_read`] and returns `Ok(None)`, its data, if any,
    /// arriving as [`Event::ApplicationData`](super::Event::ApplicationData). Errors follow the crate's error rule.
    pub fn handle_read_in_place(
        &mut self,
        now: Instant,
        datagram: &mut [u8],
    ) -> Result<Option<std::ops::Range<usize>>, Error> {
        if let State::V13(e) = &mut self.state {
            if e.is_connected() {
                match e.read_in_place(&mut self.core, now, datagram) {
                    super::tls13::InPlace::NotSingle => {}
                    super::tls13::InPlace::Refused => {
                        self.core.stats.refused_datagrams += 1;
                        return Err(Error::DatagramRefused);
                    }
                    super::tls13::InPlace::Data(r) => return Ok(Some(r)),
                    super::tls13::InPlace::Handled(r) => {
                        self.after_v13(r);
                        return Ok(None);
                    }
                }
            }
            return self
                .handle_read(now, Datagram::on_path(datagram))
                .map(|()| None);
        }
        let cid_len = self.core.records.read_cid_len();
        let single = matches!(self.state, State::Connected)
            && Records::with_cid(datagram, cid_len)
                .next()
                .is_some_and(|r| {
                    matches!(
                        r.header.content_type,
                        ContentType::ApplicationData | ContentType::Tls12Cid
                    ) && r.header.epoch == 1
                        && r.fragment.len() + HEADER_LEN + r.cid.len() == datagram.len()
                });
        if !single {
            return self
                .handle_read(now, Datagram::on_path(datagram))
                .map(|()| None);
        }
        // The id is copied to the stack: the fragment after it is decrypted in place.
        let mut cid_buf = [0u8; crate::handshake::MAX_CID_LEN];
        let Some((header, n)) = Records::with_cid(datagram, cid_len).next().and_then(|r| {
            let n = r.cid.len();
            cid_buf.get_mut(..n)?.copy_from_slice(r.cid);
            Some((r.header, n))
        }) else {
            return Err(Error::DatagramRefused);
        };
        let cid = cid_buf.get(..n).unwrap_or_default();
        let hlen = HEADER_LEN + cid.len();
        let Some(fragment) = datagram.get_mut(hlen..) else {
            return Err(Error::DatagramRefused);
        };
        match self.core.records.open_in_place(&header, cid, fragment) {
            Ok((ContentType::ApplicationData, r)) => {
                self.core.accepted += 1;
                Ok(Some(r.start + hlen..r.end + hlen))
            }
            Ok((ct, r)) => {
                // A protected alert or handshake message in a `tls12_cid` record: handled
                // like any other (rare: off the data path).
                self.core.accepted += 1;
                let mut plain = fragment.get(r).unwrap_or_default().to_vec();
                if let Err(e) = self.handle_plain(now, 1, ct, &mut plain) {
                    self.fail(e);
                }
                Ok(None)
            }
            Err(rejected) => {
                match rejected {
                    Rejected::UnknownEpoch => self.core.stats.unknown_epoch_records += 1,
                    Rejected::Replayed => self.core.stats.replayed_records += 1,
                    Rejected::BadRecord => self.core.stats.bad_records += 1,
                    Rejected::WrongCid => self.core.stats.wrong_cid_records += 1,
                }
                self.core.stats.refused_datagrams += 1;
                Err(Error::DatagramRefused)
            }
        }
    }

    /// Hands back a buffer the caller is done with (the data of an
    /// [`Event::ApplicationData`](super::Event::ApplicationData), or any `Vec` it no longer needs), so that a later record
    /// reuses its allocation instead of making a new one. Optional: a driver that lends the
    /// same buffer to every [`SansIo::poll_transmit`] already trades buffers with the
    /// connection without allocating. At most a few buffers are kept; the rest, and any
    /// overly large one, are dropped.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.core.keep_spare(buf);
    }

    /// Gives back memory kept only to make traffic cheaper: the spare record buffers, the
    /// scratch buffer records are opened in, and the room of empty queues. For a driver
    /// whose connection has gone idle; the next records allocate again. Keeps everything a
    /// retransmission or the handshake still needs.
    pub fn shrink_buffers(&mut self) {
        let c = &mut self.core;
        c.spare = Vec::new();
        c.scratch = Vec::new();
        if c.out.is_empty() {
            c.out = std::collections::VecDeque::new();
        }
        if c.events.is_empty() {
            c.events = std::collections::VecDeque::new();
        }
        if c.early.is_empty() {
            c.early = Vec::new();
        }
        c.reassembly.shrink();
    }
}
