//! The JSEP calls (RFC 8829): offers, answers, descriptions and candidates.

use super::*;

impl PeerConnection {
    // ----- signaling -----------------------------------------------------------------

    /// The bundle tag's mid (the first accepted m-line): trickled candidates name it.
    pub(super) fn data_mid(&self) -> &str {
        self.slots
            .iter()
            .find(|s| !matches!(s.kind, SlotKind::Rejected { .. }))
            .map_or(OFFER_MID, |s| s.mid.as_str())
    }

    pub(super) fn data_m_line_index(&self) -> u16 {
        self.slots
            .iter()
            .position(|s| !matches!(s.kind, SlotKind::Rejected { .. }))
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(0)
    }

    /// The smallest numeric mid no m-line uses.
    fn free_mid(&self) -> String {
        // Bounded: at most one more than the number of slots is tried.
        (0..=self.slots.len())
            .map(|n| n.to_string())
            .find(|m| !self.slots.iter().any(|s| &s.mid == m))
            .unwrap_or_else(|| self.slots.len().to_string())
    }

    /// New m-lines for a local offer: transceivers without a mid, then the data section
    /// when channels exist (or when nothing else would be offered).
    fn prepare_offer_slots(&mut self) {
        let fresh: Vec<TransceiverId> = self
            .media
            .transceivers
            .iter()
            .filter(|t| t.mid.is_none() && !t.stopped)
            .map(|t| t.id)
            .collect();
        for id in fresh {
            let mid = self.free_mid();
            if let Some(t) = self.media.transceivers.iter_mut().find(|t| t.id == id) {
                t.mid = Some(mid.clone());
            }
            self.slots.push(Slot {
                mid,
                kind: SlotKind::Media(id),
            });
        }
        let has_data = self.slots.iter().any(|s| matches!(s.kind, SlotKind::Data));
        if !has_data && (!self.entries.is_empty() || self.slots.is_empty()) {
            let mid = self.free_mid();
            self.slots.push(Slot {
                mid,
                kind: SlotKind::Data,
            });
        }
    }

    fn offer_sections(&self, local: &LocalParams<'_>) -> Vec<rtcwire_sdp::Media<'static>> {
        self.slots
            .iter()
            .map(|s| {
                let m = match &s.kind {
                    SlotKind::Data => return jsep::data_section(&s.mid, local),
                    SlotKind::Media(id) => {
                        match self.media.transceivers.iter().find(|t| t.id == *id) {
                            Some(t) if !t.stopped => {
                                jsep::with_transport(crate::media::offer_section(t), local)
                            }
                            Some(t) => crate::media::stopped_section(t),
                            None => crate::media::rejected(
                                &rtcwire_sdp::MediaKind::Audio,
                                "UDP/TLS/RTP/SAVPF",
                                &[],
                            ),
                        }
                    }
                    SlotKind::Rejected {
                        kind,
                        proto,
                        formats,
                    } => crate::media::rejected(kind, proto, formats),
                };
                m.with_mid(s.mid.clone())
            })
            .collect()
    }

    fn answer_sections(
        &self,
        remote: &RemoteParams,
        local: &LocalParams<'_>,
    ) -> Vec<rtcwire_sdp::Media<'static>> {
        remote
            .sections
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let slot = self.slots.get(i);
                let mid = slot.map_or_else(|| r.mid_or(i), |s| s.mid.clone());
                let rejected = || crate::media::rejected(&r.kind, &r.proto, &r.formats);
                let m = match slot.map(|s| &s.kind) {
                    Some(SlotKind::Data) => return jsep::data_section(&mid, local),
                    Some(SlotKind::Media(id)) => {
                        match (
                            self.media.transceivers.iter().find(|t| t.id == *id),
                            &r.media,
                        ) {
                            (Some(t), Some(rm))
                                if !t.stopped && !t.codecs.is_empty() && r.usable =>
                            {
                                jsep::with_transport(crate::media::answer_section(t, rm), local)
                            }
                            _ => rejected(),
                        }
                    }
                    _ => rejected(),
                };
                m.with_mid(mid)
            })
            .collect()
    }

    /// Takes a remote description's m-lines: an offer's become the session's m-lines
    /// (new audio/video sections get a transceiver, ours of that kind when one waits);
    /// an answer's settle the codecs of ours.
    fn apply_remote_sections(&mut self, params: &RemoteParams, offer: bool) -> Result<(), Error> {
        if offer {
            self.prev_slots = Some((self.slots.clone(), self.media.transceivers.len()));
            let mut slots = Vec::with_capacity(params.sections.len());
            for (i, r) in params.sections.iter().enumerate() {
                let mid = r.mid_or(i);
                let existing = self.slots.iter().find(|s| s.mid == mid).cloned();
                let kind = match (existing, &r.media) {
                    (Some(s), _) if !matches!(s.kind, SlotKind::Rejected { .. }) => s.kind,
                    _ if Some(i) == params.data_index => SlotKind::Data,
                    (_, Some(rm)) if r.usable && rm.kind.is_some() => {
                        let kind = rm.kind.unwrap_or(crate::MediaKind::Audio);
                        let waiting = self
                            .media
                            .transceivers
                            .iter()
                            .find(|t| t.kind == kind && t.mid.is_none() && !t.stopped)
                            .map(|t| t.id);
                        let id = match waiting {
                            Some(id) => id,
                            None => {
                                self.new_transceiver(kind, crate::Direction::RecvOnly, Vec::new())?
                            }
                        };
                        if let Some(t) = self.media.transceivers.iter_mut().find(|t| t.id == id) {
                            t.mid = Some(mid.clone());
                        }
                        SlotKind::Media(id)
                    }
                    _ => SlotKind::Rejected {
                        kind: r.kind.clone(),
                        proto: r.proto.clone(),
                        formats: r.formats.clone(),
                    },
                };
                slots.push(Slot { mid, kind });
            }
            self.slots = slots;
        }
        for (i, r) in params.sections.iter().enumerate() {
            let mid = r.mid_or(i);
            let Some(SlotKind::Media(id)) = self
                .slots
                .iter()
                .find(|s| s.mid == mid)
                .map(|s| s.kind.clone())
            else {
                continue;
            };
            let Some(t) = self.media.transceivers.iter_mut().find(|t| t.id == id) else {
                continue;
            };
            let Some(rm) = r.media.as_ref().filter(|_| r.usable) else {
                // Port 0: the peer stopped it (offer) or rejected it (answer).
                t.stopped = true;
                t.current = None;
                if std::mem::take(&mut t.track_fired) {
                    self.events.push_back(Event::TrackEnded {
                        transceiver: id,
                        reason: TrackEndReason::Stopped,
                    });
                }
                continue;
            };
            t.codecs = crate::media::match_codecs(&rm.codecs, t.kind, t.transport_cc);
            t.ext = crate::media::match_extensions(&rm.extmaps, t.kind, t.transport_cc);
            t.rtcp_rsize = rm.rtcp_rsize;
            t.remote_ssrcs = rm.ssrcs.clone();
            t.remote_rids = rm.rids.clone();
            t.remote_simulcast = rm.simulcast_send.clone();
            t.simulcast_accepted = !rm.simulcast_recv.is_empty();
            t.remote_stream_ids = rm.stream_ids.clone();
            for (p, rtx) in &rm.ssrcs {
                self.media.ssrcs.insert(*p, id);
                if let Some(x) = rtx {
                    self.media.ssrcs.insert(*x, id);
                }
            }
            if !rm.direction.sends() && std::mem::take(&mut t.track_fired) {
                self.events.push_back(Event::TrackEnded {
                    transceiver: id,
                    reason: TrackEndReason::NotSending,
                });
            }
            if rm.direction.sends()
                && t.direction.receives()
                && !t.track_fired
                && !t.codecs.is_empty()
            {
                t.track_fired = true;
                self.events.push_back(Event::Track {
                    transceiver: id,
                    kind: t.kind,
                    mid,
                    stream_ids: rm.stream_ids.clone(),
                });
            }
        }
        Ok(())
    }

    /// The exchange completed: each transceiver's `currentDirection`.
    fn settle_directions(&mut self, remote: &RemoteParams) {
        let offerer = self.offerer == Some(true);
        for (i, r) in remote.sections.iter().enumerate() {
            let mid = r.mid_or(i);
            let Some(SlotKind::Media(id)) = self
                .slots
                .iter()
                .find(|s| s.mid == mid)
                .map(|s| s.kind.clone())
            else {
                continue;
            };
            let Some(t) = self.media.transceivers.iter_mut().find(|t| t.id == id) else {
                continue;
            };
            t.current = match &r.media {
                Some(rm) if r.usable && !t.stopped && !t.codecs.is_empty() => {
                    let theirs = rm.direction.reverse();
                    Some(if offerer {
                        theirs.intersect(t.direction)
                    } else {
                        t.direction.intersect(theirs)
                    })
                }
                _ => None,
            };
        }
    }

    fn local_params(&self, setup: Setup) -> LocalParams<'_> {
        let creds = self.ice.local_credentials();
        LocalParams {
            session_id: self.session_id,
            session_version: self.session_version,
            ufrag: &creds.ufrag,
            pwd: &creds.pwd,
            fingerprint: self.local_fingerprint.clone(),
            setup,
            sctp_port: jsep::DEFAULT_SCTP_PORT,
            max_message_size: u64::try_from(self.sctp_config.max_message_size).unwrap_or(u64::MAX),
            candidates: &self.local_candidates,
            end_of_candidates: self.local_candidates_done,
            ice_lite: self.ice.is_lite(),
        }
    }

    /// Restarts ICE locally: new credentials; the agent emits its candidates again.
    fn restart_ice_now(&mut self) -> Result<(), Error> {
        let now = self.now;
        self.ice.restart(now)?;
        self.local_candidates.clear();
        self.local_candidates_done = false;
        if self.gathering != IceGatheringState::Gathering {
            // W3C: a restart gathers again; `complete` follows when the agent is done.
            self.gathering = IceGatheringState::Gathering;
            self.events
                .push_back(Event::IceGatheringStateChange(IceGatheringState::Gathering));
        }
        self.pump(now);
        Ok(())
    }

    /// `createOffer`. The m-lines of the last exchange stay, in order (a stopped
    /// transceiver's with port 0); after them come an `m=audio`/`m=video` section for each
    /// transceiver not negotiated yet, and the data-channel section (`m=application ...
    /// webrtc-datachannel`) once a channel exists (or when nothing else would be offered).
    /// Every accepted section is in the BUNDLE group. Each carries our ICE credentials (new ones after
    /// [`restart_ice`](Self::restart_ice)), `a=ice-options:trickle`, the candidates
    /// gathered so far, our certificate's fingerprint and `a=setup:actpass`.
    pub fn create_offer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        if !matches!(
            self.signaling,
            SignalingState::Stable | SignalingState::HaveLocalOffer
        ) {
            return Err(Error::WrongState("createOffer while answering an offer"));
        }
        if self.ice_restart_pending {
            self.restart_ice_now()?;
            self.ice_restart_pending = false;
        }
        self.session_version += 1;
        self.prepare_offer_slots();
        let local = self.local_params(Setup::ActPass);
        let text = jsep::write_description(self.offer_sections(&local), &local)?;
        self.last_offer = Some(text.clone());
        Ok(SessionDescription::offer(text))
    }

    /// `createAnswer`: accepts the offer's data section and its audio and video sections
    /// with a codec in common (codecs, payload types and extension ids as offered; the
    /// direction is the transceiver's intersected with the reverse of the offer's), with
    /// `a=setup:active` (we are the DTLS client, unless the offer was `active`; in a later
    /// exchange the role stays). Every other section is rejected (port 0, same mid,
    /// `a=inactive`).
    pub fn create_answer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        if self.signaling != SignalingState::HaveRemoteOffer {
            return Err(Error::WrongState("createAnswer needs a remote offer"));
        }
        let remote = self
            .remote
            .as_ref()
            .ok_or(Error::WrongState("createAnswer needs a remote offer"))?;
        let setup = match (self.dtls_role, remote.setup) {
            (Some(DtlsRole::Client), _) => Setup::Active,
            (Some(DtlsRole::Server), _) | (None, Some(Setup::Active)) => Setup::Passive,
            (None, _) => Setup::Active,
        };
        self.session_version += 1;
        let local = self.local_params(setup);
        let text = jsep::write_description(self.answer_sections(remote, &local), &local)?;
        self.local_setup = Some(setup);
        self.last_answer = Some(text.clone());
        Ok(SessionDescription::answer(text))
    }

    /// `restartIce`: the next [`create_offer`](Self::create_offer) carries new ICE
    /// credentials and both agents check again; data keeps flowing on the current pair
    /// until the new one is nominated. [`Event::NegotiationNeeded`] says to make that
    /// offer.
    pub fn restart_ice(&mut self) -> Result<(), Error> {
        self.check_open()?;
        if self.remote.is_none() {
            return Err(Error::WrongState("restartIce needs a negotiated session"));
        }
        if !self.ice_restart_pending {
            self.ice_restart_pending = true;
            self.events.push_back(Event::NegotiationNeeded);
        }
        Ok(())
    }

    /// `setLocalDescription` with a description this session created (the last
    /// `create_offer` or `create_answer`; SDP munging is not supported), or a rollback of
    /// our pending offer (an ICE restart that offer started is not undone).
    pub fn set_local_description(&mut self, desc: SessionDescription) -> Result<(), Error> {
        self.check_open()?;
        let invalid = Error::InvalidState {
            sdp_type: desc.sdp_type,
            state: self.signaling,
        };
        match desc.sdp_type {
            SdpType::Offer => {
                if !matches!(
                    self.signaling,
                    SignalingState::Stable | SignalingState::HaveLocalOffer
                ) {
                    return Err(invalid);
                }
                if self.last_offer.as_deref() != Some(desc.sdp.as_str()) {
                    return Err(Error::NotOurDescription(SdpType::Offer));
                }
                if self.signaling == SignalingState::Stable {
                    self.prev_local_description = self.local_description.take();
                    self.prev_offerer = self.offerer;
                }
                self.offerer = Some(true);
                self.local_description = Some(desc);
                self.set_signaling(SignalingState::HaveLocalOffer);
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(invalid);
                }
                if self.last_answer.as_deref() != Some(desc.sdp.as_str()) {
                    return Err(Error::NotOurDescription(SdpType::Answer));
                }
                self.local_description = Some(desc);
                self.set_signaling(SignalingState::Stable);
                self.negotiated()?;
            }
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(invalid);
                }
                self.local_description = self.prev_local_description.take();
                self.offerer = self.prev_offerer;
                self.set_signaling(SignalingState::Stable);
            }
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
        }
        let now = self.now;
        self.pump(now);
        Ok(())
    }

    /// Whether our sections include one not stopped (the data section, or a transceiver
    /// not stopped): an answer may reject every section only of an offer without one.
    fn offers_a_live_section(&self) -> bool {
        self.slots.iter().any(|s| match s.kind {
            SlotKind::Data => true,
            SlotKind::Media(id) => self
                .media
                .transceivers
                .iter()
                .any(|t| t.id == id && !t.stopped),
            SlotKind::Rejected { .. } => false,
        })
    }

    /// `setRemoteDescription`. Every usable audio, video and data section must be in one
    /// BUNDLE group (max-bundle) and audio/video must have `a=rtcp-mux`; the transport
    /// (ICE credentials, fingerprint, candidates) is the group's tagged section's. A new
    /// audio or video section in an offer gets a transceiver (one of ours of that kind
    /// not negotiated yet, or a new `recvonly` one); [`Event::Track`] follows for each
    /// section whose direction says the peer sends. Other sections are noted, to be
    /// rejected in the answer. A later offer may restart ICE (new credentials: we
    /// restart too) but must keep the data section and the certificate (a new DTLS
    /// association is not supported). A rollback undoes a remote offer not yet
    /// answered.
    pub fn set_remote_description(&mut self, desc: SessionDescription) -> Result<(), Error> {
        self.check_open()?;
        let invalid = Error::InvalidState {
            sdp_type: desc.sdp_type,
            state: self.signaling,
        };
        match desc.sdp_type {
            SdpType::Offer if self.signaling != SignalingState::Stable => return Err(invalid),
            SdpType::Answer if self.signaling != SignalingState::HaveLocalOffer => {
                return Err(invalid)
            }
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(invalid);
                }
                return self.rollback_remote_offer();
            }
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
            _ => {}
        }
        let sdp = Sdp::parse(&desc.sdp)?;
        let params = jsep::read_remote(&sdp)?;
        let our_data = self
            .slots
            .iter()
            .find(|s| matches!(s.kind, SlotKind::Data))
            .map(|s| s.mid.clone());
        if desc.sdp_type == SdpType::Answer
            && our_data.is_some()
            && params.data_mid() != our_data.as_deref()
        {
            return Err(Error::BadDescription("the answer rejects the data section"));
        }
        if params.transport_index.is_none()
            && desc.sdp_type == SdpType::Answer
            && self.offers_a_live_section()
        {
            return Err(Error::BadDescription("the answer rejects every section"));
        }
        let first = self.remote.is_none();
        if self.dtls_config.is_some() {
            if our_data.is_some() && params.data_mid() != our_data.as_deref() {
                return Err(Error::BadDescription(
                    "a later description must keep the data section (same mid)",
                ));
            }
            // A description whose sections are all stopped has no transport, and so no
            // fingerprint to compare.
            if params.transport_index.is_some() && params.fingerprints != self.remote_fingerprints {
                return Err(Error::BadDescription(
                    "the peer's certificate changed; a new DTLS association is not supported",
                ));
            }
        }
        let now = self.now;
        if desc.sdp_type == SdpType::Offer && first {
            // We answer: ICE is controlled. The agent keeps its candidates and TURN
            // allocations (a new agent would ask the TURN server for a second allocation
            // from the same 5-tuple, which it refuses: 437 Allocation Mismatch).
            self.ice.set_controlling(false);
        }
        if params.transport_index.is_some() {
            let restart = self
                .remote
                .as_ref()
                .is_some_and(|r| r.ufrag != params.ufrag || r.pwd != params.pwd);
            if restart && desc.sdp_type == SdpType::Offer {
                // The peer restarts ICE: so do we (RFC 8445 §9).
                self.restart_ice_now()?;
                self.ice_restart_pending = false;
            }
            self.ice
                .set_remote_credentials(&params.ufrag, &params.pwd)?;
            self.ice.set_remote_lite(params.ice_lite);
        }
        let has_data = params.transport_index.is_some();
        let candidates = params.candidates.clone();
        let end = params.end_of_candidates;
        self.apply_remote_sections(&params, desc.sdp_type == SdpType::Offer)?;
        if desc.sdp_type == SdpType::Offer {
            self.prev_remote = self.remote.take().map(Box::new);
            self.prev_remote_description = self.remote_description.take();
            self.prev_offerer = self.offerer;
        }
        self.remote = Some(params);
        self.remote_description = Some(desc.clone());
        if has_data {
            for line in &candidates {
                self.add_remote_candidate_line(now, line);
            }
            if end {
                self.ice.end_of_remote_candidates(now);
            }
        }
        match desc.sdp_type {
            SdpType::Offer => {
                self.offerer = Some(false);
                self.set_signaling(SignalingState::HaveRemoteOffer);
            }
            _ => {
                self.set_signaling(SignalingState::Stable);
                self.negotiated()?;
            }
        }
        self.pump(now);
        Ok(())
    }

    fn rollback_remote_offer(&mut self) -> Result<(), Error> {
        let first = self.prev_remote.is_none();
        self.remote = self.prev_remote.take().map(|r| *r);
        self.remote_description = self.prev_remote_description.take();
        self.offerer = self.prev_offerer;
        if let Some((slots, count)) = self.prev_slots.take() {
            self.slots = slots;
            self.media.transceivers.truncate(count);
            for t in &mut self.media.transceivers {
                if t.mid
                    .as_ref()
                    .is_some_and(|m| !self.slots.iter().any(|s| &s.mid == m))
                {
                    t.mid = None;
                }
            }
        }
        if first {
            // Back to an agent that knows no peer, controlling as an offerer's is.
            self.set_ice_controlling(true)?;
        } else if let Some(r) = &self.remote {
            // Credentials of the exchange in force (a restart offer is not undone).
            let (ufrag, pwd) = (r.ufrag.clone(), r.pwd.clone());
            self.ice.set_remote_credentials(&ufrag, &pwd)?;
        }
        self.set_signaling(SignalingState::Stable);
        let now = self.now;
        self.pump(now);
        Ok(())
    }

    fn set_ice_controlling(&mut self, controlling: bool) -> Result<(), Error> {
        let config = rtcwire_ice::Config {
            controlling,
            local_credentials: Some(self.ice.local_credentials().clone()),
            ..self.ice.config().clone()
        };
        let mut ice = Agent::new(config, rng_for(self.seed, "ice"))?;
        for &(addr, tcp) in &self.local_hosts {
            match tcp {
                None => ice.add_host_candidate(self.now, addr).map(drop)?,
                Some(t) => ice.add_tcp_host_candidate(self.now, addr, t).map(drop)?,
            }
        }
        if self.end_of_local_called {
            ice.end_of_local_candidates();
        }
        // Its candidates were signalled by the old agent already.
        while let Some(e) = ice.poll_event() {
            if let rtcwire_ice::Event::GatheringComplete = e {
                self.gathering_complete();
            }
        }
        self.ice = ice;
        Ok(())
    }

    fn add_remote_candidate_line(&mut self, now: Instant, line: &str) {
        match rtcwire_ice::Candidate::parse(line) {
            Ok(c) => {
                if self.add_remote_candidate(now, c).is_err() {
                    self.stats.refused_candidates += 1;
                }
            }
            Err(_) => self.stats.refused_candidates += 1,
        }
    }

    fn add_remote_candidate(
        &mut self,
        now: Instant,
        c: rtcwire_ice::Candidate,
    ) -> Result<(), Error> {
        if let rtcwire_ice::RemoteCandidateOutcome::NeedsResolution(name) =
            self.ice.add_remote_candidate(now, c)?
        {
            if !self.hostnames_asked.contains(&name) && self.hostnames_asked.len() < 16 {
                self.hostnames_asked.push(name.clone());
                self.events.push_back(Event::ResolveHostname(name));
            }
        }
        Ok(())
    }

    /// The address a remote candidate's host name (a browser's `<uuid>.local`) resolved
    /// to, after [`Event::ResolveHostname`]; the candidate is then checked.
    pub fn resolve_hostname(&mut self, hostname: &str, ip: std::net::IpAddr) -> Result<(), Error> {
        self.check_open()?;
        let now = self.now;
        self.ice.resolve_remote_hostname(now, hostname, ip)?;
        self.pump(now);
        Ok(())
    }

    /// Both descriptions are applied: fix the DTLS role and the peer's fingerprints.
    fn negotiated(&mut self) -> Result<(), Error> {
        let remote = self
            .remote
            .as_ref()
            .ok_or(Error::WrongState("no remote description"))?;
        let remote = remote.clone();
        self.settle_directions(&remote);
        self.prev_slots = None;
        self.prev_remote = None;
        self.prev_remote_description = None;
        self.prev_local_description = None;
        if self.dtls_config.is_some() {
            // A later exchange: the DTLS association and its roles stay; a data section
            // added now starts SCTP on the running DTLS.
            if self.dtls_connected && self.sctp.is_none() {
                let now = self.now;
                self.start_sctp(now);
            }
            return Ok(());
        }
        if remote.transport_index.is_none() {
            // Nothing accepted: no transport to start.
            return Ok(());
        }
        let role = match (self.offerer, self.local_setup) {
            (Some(false), Some(Setup::Passive)) => DtlsRole::Server,
            (Some(false), _) => DtlsRole::Client,
            _ => jsep::our_role_from_remote_setup(remote.setup),
        };
        let mut b = rtcwire_dtls::Config::builder(self.certificate.clone())
            .mtu(self.dtls_mtu)
            .deterministic_keys(self.seed.is_some())
            // No cookie round trip (it costs one on every connection): ICE hands DTLS only
            // datagrams from addresses that answered our checks or sent checks carrying the
            // credentials of this session's descriptions (`Agent::handle_datagram` refuses
            // the rest), so only the signalled peer could aim our flight elsewhere.
            .hello_verify(false);
        if let Some(profiles) = &self.srtp_profiles {
            b = b.srtp_profiles(profiles);
        }
        for fp in &remote.fingerprints {
            b = b.remote_fingerprint(fp.clone());
        }
        let cfg = b.build().map_err(Error::Certificate)?;
        self.remote_fingerprints = remote.fingerprints.clone();
        self.dtls_config = Some(Arc::new(cfg));
        self.dtls_role = Some(role);
        Ok(())
    }

    /// `addIceCandidate`: a trickled remote candidate, or end-of-candidates when
    /// `candidate` is empty. Candidates of any BUNDLEd mid go to the one transport.
    /// A `.local` (mDNS) candidate is kept until resolved: [`Event::ResolveHostname`]
    /// asks the driver (rtcwire-ice's `mdns` module has the query codec), and
    /// [`resolve_hostname`](Self::resolve_hostname) gives the answer.
    pub fn add_ice_candidate(&mut self, candidate: &IceCandidate) -> Result<(), Error> {
        self.check_open()?;
        if self.remote.is_none() {
            return Err(Error::WrongState(
                "addIceCandidate needs a remote description",
            ));
        }
        let now = self.now;
        if candidate.is_end_of_candidates() {
            self.ice.end_of_remote_candidates(now);
        } else {
            let c = rtcwire_ice::Candidate::parse(&candidate.candidate)?;
            if let Err(e) = self.add_remote_candidate(now, c) {
                self.stats.refused_candidates += 1;
                return Err(e);
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Adds a local host candidate: an address the driver has a UDP socket on. Emitted as
    /// [`Event::IceCandidate`] (trickle) and put in later descriptions.
    pub fn add_local_candidate(&mut self, address: SocketAddr) -> Result<(), Error> {
        self.check_open()?;
        let now = self.now;
        self.ice.add_host_candidate(now, address)?;
        if !self.local_hosts.contains(&(address, None)) {
            self.local_hosts.push((address, None));
        }
        self.pump(now);
        Ok(())
    }

    /// Adds a local TCP host candidate (ICE-TCP, RFC 6544): `Passive` for an address the
    /// driver listens on, `Active` for an IP it connects from (signalled with port 9). The
    /// driver frames the streams (RFC 4571) and feeds their messages tagged
    /// [`Transport::Tcp`](rtcwire_proto::Transport::Tcp).
    pub fn add_local_tcp_candidate(
        &mut self,
        address: SocketAddr,
        tcp_type: rtcwire_ice::TcpType,
    ) -> Result<(), Error> {
        self.check_open()?;
        let now = self.now;
        self.ice.add_tcp_host_candidate(now, address, tcp_type)?;
        if !self.local_hosts.contains(&(address, Some(tcp_type))) {
            self.local_hosts.push((address, Some(tcp_type)));
        }
        self.pump(now);
        Ok(())
    }

    /// The driver has no more local addresses: gathering completes (once STUN/TURN
    /// servers answered) and end-of-candidates is emitted.
    pub fn end_of_local_candidates(&mut self) {
        if self.closed {
            return;
        }
        self.end_of_local_called = true;
        self.ice.end_of_local_candidates();
        let now = self.now;
        self.pump(now);
    }
}
