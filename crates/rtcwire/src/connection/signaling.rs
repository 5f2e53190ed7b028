//! The JSEP calls (RFC 8829): offers, answers, descriptions and candidates.

use super::*;

impl PeerConnection {
    // ----- signaling -----------------------------------------------------------------

    pub(super) fn data_mid(&self) -> &str {
        self.remote
            .as_ref()
            .filter(|_| self.offerer == Some(false))
            .and_then(RemoteParams::data_mid)
            .unwrap_or(OFFER_MID)
    }

    pub(super) fn data_m_line_index(&self) -> u16 {
        self.remote
            .as_ref()
            .filter(|_| self.offerer == Some(false))
            .and_then(|r| r.data_index)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(0)
    }

    fn local_params(&mut self, setup: Setup) -> LocalParams<'_> {
        self.session_version += 1;
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
        }
    }

    /// `createOffer`: one data-channel section (`m=application ... webrtc-datachannel`,
    /// mid "0", BUNDLEd), our ICE credentials, `a=ice-options:trickle`, the candidates
    /// gathered so far, our certificate's fingerprint and `a=setup:actpass`.
    pub fn create_offer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        match self.signaling {
            SignalingState::Stable if self.remote.is_none() => {}
            SignalingState::HaveLocalOffer => {}
            SignalingState::Stable => return Err(Error::Unsupported("renegotiation")),
            _ => return Err(Error::WrongState("createOffer while answering an offer")),
        }
        let text = jsep::write_offer(OFFER_MID, &self.local_params(Setup::ActPass))?;
        self.last_offer = Some(text.clone());
        Ok(SessionDescription::offer(text))
    }

    /// `createAnswer`: accepts the offer's data section (`a=setup:active`, we are the DTLS
    /// client, unless the offer was `active`), rejects every other section (port 0, same
    /// mid, `a=inactive`: media comes in a later version).
    pub fn create_answer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        if self.signaling != SignalingState::HaveRemoteOffer {
            return Err(Error::WrongState("createAnswer needs a remote offer"));
        }
        let remote = self
            .remote
            .clone()
            .ok_or(Error::WrongState("createAnswer needs a remote offer"))?;
        let setup = match remote.setup {
            Some(Setup::Active) => Setup::Passive,
            _ => Setup::Active,
        };
        let text = jsep::write_answer(&remote, &self.local_params(setup))?;
        self.local_setup = Some(setup);
        self.last_answer = Some(text.clone());
        Ok(SessionDescription::answer(text))
    }

    /// `setLocalDescription` with a description this session created (the last
    /// `create_offer` or `create_answer`; SDP munging is not supported).
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
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
            SdpType::Rollback => return Err(Error::Unsupported("rollback")),
        }
        let now = self.now;
        self.pump(now);
        Ok(())
    }

    /// `setRemoteDescription`. An offer must have a usable data section
    /// (`m=application ... UDP/DTLS/SCTP webrtc-datachannel`) for the session to connect;
    /// other sections are noted, to be rejected in the answer.
    pub fn set_remote_description(&mut self, desc: SessionDescription) -> Result<(), Error> {
        self.check_open()?;
        let invalid = Error::InvalidState {
            sdp_type: desc.sdp_type,
            state: self.signaling,
        };
        match desc.sdp_type {
            SdpType::Offer => {
                if self.signaling != SignalingState::Stable {
                    return Err(invalid);
                }
                if self.remote.is_some() {
                    return Err(Error::Unsupported("renegotiation"));
                }
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(invalid);
                }
            }
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
            SdpType::Rollback => return Err(Error::Unsupported("rollback")),
        }
        let sdp = Sdp::parse(&desc.sdp)?;
        let params = jsep::read_remote(&sdp)?;
        if desc.sdp_type == SdpType::Answer && params.data_index.is_none() {
            return Err(Error::BadDescription("the answer rejects the data section"));
        }
        if desc.sdp_type == SdpType::Offer {
            // We answer: ICE is controlled. Nothing was checked yet, so the agent is
            // rebuilt with the same credentials and host candidates.
            self.become_controlled()?;
        }
        if params.data_index.is_some() {
            self.ice
                .set_remote_credentials(&params.ufrag, &params.pwd)?;
            self.ice.set_remote_lite(params.ice_lite);
        }
        let now = self.now;
        let has_data = params.data_index.is_some();
        let candidates = params.candidates.clone();
        let end = params.end_of_candidates;
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

    fn become_controlled(&mut self) -> Result<(), Error> {
        let config = rtcwire_ice::Config {
            controlling: false,
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
        let ok = rtcwire_ice::Candidate::parse(line)
            .and_then(|c| self.ice.add_remote_candidate(now, c))
            .is_ok();
        if !ok {
            self.stats.refused_candidates += 1;
        }
    }

    /// Both descriptions are applied: fix the DTLS role and the peer's fingerprints.
    fn negotiated(&mut self) -> Result<(), Error> {
        let remote = self
            .remote
            .as_ref()
            .ok_or(Error::WrongState("no remote description"))?;
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
        self.dtls_config = Some(Arc::new(cfg));
        self.dtls_role = Some(role);
        Ok(())
    }

    /// `addIceCandidate`: a trickled remote candidate, or end-of-candidates when
    /// `candidate` is empty. Candidates of any BUNDLEd mid go to the one transport.
    /// `.local` (mDNS) candidates are kept until resolved; resolving them is the driver's
    /// job and not wired yet.
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
            if let Err(e) = self.ice.add_remote_candidate(now, c) {
                self.stats.refused_candidates += 1;
                return Err(e.into());
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
