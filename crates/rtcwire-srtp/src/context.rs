//! The SRTP/SRTCP cryptographic context of one set of master keys.

use std::fmt;

use bytes::BytesMut;
use rtcwire_proto::{DtlsRole, KeyingMaterial, SrtpKeys, SrtpProfile, Ssrc};

use crate::kdf::{Kdf, Transform};
use crate::stream::{RtcpRecv, RtcpSend, RtpRecv, RtpSend, Streams};
use crate::{Config, Error};

/// The cryptographic context of one master key and salt (RFC 3711 §3.2): session keys for
/// SRTP and SRTCP, plus the per-SSRC state — rollover counters, SRTCP indices and replay
/// windows — created on each stream's first packet.
///
/// One master key protects one direction: build one context from the keys you send with
/// and one from the keys the peer sends with ([`Context::from_keying_material`] does both).
/// A context keeps separate state for what it protects and what it unprotects, so using
/// one for both (loopback tests) is safe.
///
/// All operations work in the caller's buffer and allocate nothing, except the first packet
/// of a new SSRC, which creates that stream's entry.
pub struct Context {
    pub(crate) profile: SrtpProfile,
    pub(crate) config: Config,
    pub(crate) rtp: Transform,
    pub(crate) rtcp: Transform,
    pub(crate) rtp_send: Streams<RtpSend>,
    pub(crate) rtp_recv: Streams<RtpRecv>,
    pub(crate) rtcp_send: Streams<RtcpSend>,
    pub(crate) rtcp_recv: Streams<RtcpRecv>,
}

impl Context {
    /// Derives the session keys (RFC 3711 §4.3, key derivation rate 0) from a master key and
    /// master salt whose lengths must match `profile`.
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: Config,
    ) -> Result<Self, Error> {
        config.validate()?;
        let kdf = Kdf::new(profile, master_key, master_salt)?;
        let rtp = Transform::derive(profile, &kdf, false)?;
        let rtcp = Transform::derive(profile, &kdf, true)?;
        Ok(Self::with_transforms(profile, config, rtp, rtcp))
    }

    /// [`Context::new`] from one direction's keys of a [`KeyingMaterial`].
    pub fn from_keys(
        profile: SrtpProfile,
        keys: SrtpKeys<'_>,
        config: Config,
    ) -> Result<Self, Error> {
        Self::new(profile, keys.master_key, keys.master_salt, config)
    }

    /// The two contexts DTLS-SRTP keying material calls for (RFC 5764 §4.2): `(local,
    /// remote)` — protect what you send with `local`, unprotect what you receive with
    /// `remote`. `role` is our DTLS role (who sent the ClientHello), not the ICE or SDP one.
    ///
    /// ```
    /// use rtcwire_proto::{DtlsRole, KeyingMaterial, SrtpProfile};
    /// use rtcwire_srtp::{Config, Context};
    ///
    /// let profile = SrtpProfile::AeadAes128Gcm;
    /// // In a real session these bytes come from the DTLS exporter.
    /// let km = KeyingMaterial::new(profile, vec![7; profile.keying_material_len()]).unwrap();
    /// let (mut client_tx, _client_rx) =
    ///     Context::from_keying_material(&km, DtlsRole::Client, Config::default())?;
    /// let (_server_tx, mut server_rx) =
    ///     Context::from_keying_material(&km, DtlsRole::Server, Config::default())?;
    ///
    /// let rtp = [0x80, 96, 0, 1, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78, 0xde, 0xad];
    /// let mut buf = [0u8; 64];
    /// buf[..rtp.len()].copy_from_slice(&rtp);
    /// let n = client_tx.protect_rtp(&mut buf, rtp.len())?;
    /// assert_eq!(n, rtp.len() + 16);
    /// let m = server_rx.unprotect_rtp(&mut buf[..n])?;
    /// assert_eq!(&buf[..m], &rtp);
    /// # Ok::<(), rtcwire_srtp::Error>(())
    /// ```
    pub fn from_keying_material(
        material: &KeyingMaterial,
        role: DtlsRole,
        config: Config,
    ) -> Result<(Self, Self), Error> {
        let profile = material.profile();
        let (local, remote) = material.split(role);
        Ok((
            Self::from_keys(profile, local, config)?,
            Self::from_keys(profile, remote, config)?,
        ))
    }

    pub(crate) fn with_transforms(
        profile: SrtpProfile,
        config: Config,
        rtp: Transform,
        rtcp: Transform,
    ) -> Self {
        Context {
            profile,
            config,
            rtp,
            rtcp,
            rtp_send: Streams::new(config.max_streams),
            rtp_recv: Streams::new(config.max_streams),
            rtcp_send: Streams::new(config.max_streams),
            rtcp_recv: Streams::new(config.max_streams),
        }
    }

    /// The protection profile.
    #[must_use]
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The settings this context was built with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Octets [`protect_rtp`](Self::protect_rtp) adds: the authentication tag.
    #[must_use]
    pub fn rtp_overhead(&self) -> usize {
        self.profile.srtp_tag_len()
    }

    /// Octets [`protect_rtcp`](Self::protect_rtcp) adds: the E flag and SRTCP index word
    /// plus the tag.
    #[must_use]
    pub fn rtcp_overhead(&self) -> usize {
        4 + self.profile.srtcp_tag_len()
    }

    /// The rollover counter of a stream we protect, once it has sent a packet.
    #[must_use]
    pub fn send_roc(&self, ssrc: Ssrc) -> Option<u32> {
        self.rtp_send.get(ssrc).map(|s| (s.highest >> 16) as u32)
    }

    /// The rollover counter of a stream we unprotect, once a packet was accepted.
    #[must_use]
    pub fn recv_roc(&self, ssrc: Ssrc) -> Option<u32> {
        self.rtp_recv
            .get(ssrc)
            .and_then(|s| s.window.top())
            .map(|top| (top >> 16) as u32)
    }

    /// Number of SRTP streams being protected and unprotected, in that order.
    #[must_use]
    pub fn rtp_streams(&self) -> (usize, usize) {
        (self.rtp_send.len(), self.rtp_recv.len())
    }

    /// Forgets every piece of state about `ssrc` (after an RTCP BYE, say), freeing its slot.
    pub fn remove_ssrc(&mut self, ssrc: Ssrc) {
        self.rtp_send.remove(ssrc);
        self.rtp_recv.remove(ssrc);
        self.rtcp_send.remove(ssrc);
        self.rtcp_recv.remove(ssrc);
    }

    /// [`protect_rtp`](Self::protect_rtp) on a `BytesMut` holding one RTP packet: the tag is
    /// written into its spare capacity (reserve [`rtp_overhead`](Self::rtp_overhead) octets
    /// beforehand to be sure nothing is allocated). On error the packet is left as it was.
    pub fn protect_rtp_bytes(&mut self, packet: &mut BytesMut) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + self.rtp_overhead(), 0);
        match self.protect_rtp(packet, len) {
            Ok(_) => Ok(()),
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// [`unprotect_rtp`](Self::unprotect_rtp) on a `BytesMut`: on success it is truncated
    /// to the RTP packet.
    pub fn unprotect_rtp_bytes(&mut self, packet: &mut BytesMut) -> Result<(), Error> {
        let n = self.unprotect_rtp(packet)?;
        packet.truncate(n);
        Ok(())
    }

    /// [`protect_rtcp`](Self::protect_rtcp) on a `BytesMut` holding one compound RTCP
    /// packet, writing the trailer into its spare capacity.
    pub fn protect_rtcp_bytes(&mut self, packet: &mut BytesMut) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + self.rtcp_overhead(), 0);
        match self.protect_rtcp(packet, len) {
            Ok(_) => Ok(()),
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// [`unprotect_rtcp`](Self::unprotect_rtcp) on a `BytesMut`: on success it is
    /// truncated to the compound RTCP packet.
    pub fn unprotect_rtcp_bytes(&mut self, packet: &mut BytesMut) -> Result<(), Error> {
        let n = self.unprotect_rtcp(packet)?;
        packet.truncate(n);
        Ok(())
    }
}

impl fmt::Debug for Context {
    /// Prints the profile and stream counts, never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("rtp_send_streams", &self.rtp_send.len())
            .field("rtp_recv_streams", &self.rtp_recv.len())
            .field("rtcp_send_streams", &self.rtcp_send.len())
            .field("rtcp_recv_streams", &self.rtcp_recv.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_send_and_sync_and_debug_hides_keys() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Context>();
        let ctx = Context::new(
            SrtpProfile::Aes128CmHmacSha1_80,
            &[0xab; 16],
            &[0xcd; 14],
            Config::default(),
        )
        .unwrap();
        let dbg = format!("{ctx:?}");
        assert!(dbg.contains("Aes128CmHmacSha1_80"), "{dbg}");
        assert!(!dbg.contains("171") && !dbg.contains("ab, ab"), "{dbg}");
    }
}
