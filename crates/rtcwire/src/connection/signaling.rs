//! The JSEP calls (RFC 8829): offers, answers, descriptions and candidates.

use super::*;

impl PeerConnection {
    // ----- signaling -----------------------------------------------------------------

    /// The sections of the current exchange, when they are not just our one data
    /// section: the remote offer we answer, or the layout of the last exchange we
    /// answered (a later offer of ours keeps its m-lines, RFC 8829 §5.2.2).
    fn sections(&self) -> Option<&RemoteParams> {
        if self.signaling == SignalingState::HaveRemoteOffer
            || self.layout.is_none() && self.offerer == Some(false)
        {
            return self.remote.as_ref();
        }
        self.layout.as_ref()
    }

    pub(super) fn data_mid(&self) -> &str {
        self.sections()
            .and_then(RemoteParams::data_mid)
            .unwrap_or(OFFER_MID)
    }

    pub(super) fn data_m_line_index(&self) -> u16 {
        self.sections()
            .and_then(|r| r.data_index)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(0)
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
            ice_lite: self.ice_config.lite,
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

    /// `createOffer`. The first offer has one data-channel section (`m=application ...
    /// webrtc-datachannel`, mid "0", BUNDLEd); a later one keeps the m-lines of the last
    /// exchange. Each carries our ICE credentials (new ones after
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
        let local = self.local_params(Setup::ActPass);
        let text = match &self.layout {
            Some(layout) => jsep::write_mirrored(layout, &local)?,
            None => jsep::write_offer(OFFER_MID, &local)?,
        };
        self.last_offer = Some(text.clone());
        Ok(SessionDescription::offer(text))
    }

    /// `createAnswer`: accepts the offer's data section (`a=setup:active`, we are the DTLS
    /// client, unless the offer was `active`; in a later exchange the role stays), rejects
    /// every other section (port 0, same mid, `a=inactive`: media comes in a later
    /// version).
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
        let text = jsep::write_mirrored(remote, &self.local_params(setup))?;
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

    /// `setRemoteDescription`. An offer must have a usable data section
    /// (`m=application ... UDP/DTLS/SCTP webrtc-datachannel`) for the session to connect;
    /// other sections are noted, to be rejected in the answer. A later offer may restart
    /// ICE (new credentials: we restart too) but must keep the data section and the
    /// certificate (a new DTLS association is not supported). A rollback undoes a remote
    /// offer not yet answered.
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
        if desc.sdp_type == SdpType::Answer && params.data_index.is_none() {
            return Err(Error::BadDescription("the answer rejects the data section"));
        }
        let first = self.remote.is_none();
        if self.dtls_config.is_some() {
            if params.data_mid() != Some(self.data_mid_of_transport()) {
                return Err(Error::BadDescription(
                    "a later description must keep the data section (same mid)",
                ));
            }
            if params.fingerprints != self.remote_fingerprints {
                return Err(Error::BadDescription(
                    "the peer's certificate changed; a new DTLS association is not supported",
                ));
            }
        }
        let now = self.now;
        if desc.sdp_type == SdpType::Offer && first {
            // We answer: ICE is controlled. Nothing was checked yet, so the agent is
            // rebuilt with the same credentials and host candidates.
            self.set_ice_controlling(false)?;
        }
        if params.data_index.is_some() {
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
        let has_data = params.data_index.is_some();
        let candidates = params.candidates.clone();
        let end = params.end_of_candidates;
        if desc.sdp_type == SdpType::Offer {
            self.prev_remote = self.remote.take();
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

    /// The mid the running transport was negotiated on.
    fn data_mid_of_transport(&self) -> &str {
        self.layout
            .as_ref()
            .and_then(RemoteParams::data_mid)
            .unwrap_or(OFFER_MID)
    }

    fn rollback_remote_offer(&mut self) -> Result<(), Error> {
        let first = self.prev_remote.is_none();
        self.remote = self.prev_remote.take();
        self.remote_description = self.prev_remote_description.take();
        self.offerer = self.prev_offerer;
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
            ..self.ice_config.clone()
        };
        let mut ice = Agent::new(config, rng_for(self.seed, "ice"))?;
        for &addr in &self.local_hosts {
            ice.add_host_candidate(self.now, addr)?;
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
        if self.offerer == Some(false) {
            // Our later offers keep the m-lines of the offer we answered.
            self.layout = Some(remote.clone());
        }
        self.prev_remote = None;
        self.prev_remote_description = None;
        self.prev_local_description = None;
        if self.dtls_config.is_some() {
            // A later exchange: the DTLS association and its roles stay.
            return Ok(());
        }
        if remote.data_index.is_none() {
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
            .deterministic_keys(self.seed.is_some());
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
        if !self.local_hosts.contains(&address) {
            self.local_hosts.push(address);
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
