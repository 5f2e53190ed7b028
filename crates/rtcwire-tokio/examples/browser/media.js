'use strict';
// More media scenarios of the interop page (loaded by page.html after its own script, whose
// helpers and SCENARIOS table this uses): every SRTP profile in turn, NACK under injected
// loss, renegotiation both ways, rtcwire offering media, and the media timing of --bench.

// The browser's selected candidate pair: its id and both candidates' addresses.
async function selectedPair(pc) {
  const st = await pc.getStats(); const byId = {}; st.forEach(s => byId[s.id] = s);
  for (const s of st.values()) {
    if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
    const p = byId[s.selectedCandidatePairId] || {};
    const l = byId[p.localCandidateId] || {}, r = byId[p.remoteCandidateId] || {};
    return {id: s.selectedCandidatePairId, local: `${l.address}:${l.port}`, remote: `${r.address}:${r.port}`,
      localPort: l.port, remotePort: r.port, changes: s.selectedCandidatePairChanges};
  }
  return null;
}

// After an ICE restart: the browser's selected pair is a new one (new id, a new local port:
// Chromium gathers new sockets for the new credentials), and rtcwire's selected pair is the
// same path seen from its side. Returns both views.
async function checkNewPair(s, before, t, r0) {
  let after = null;
  await until(async () => { after = await selectedPair(s.pc); return after && after.id !== before.id; }, 5000,
    'the browser selecting a new pair after the restart (still ' + before.id + ')');
  t.new_pair = now() - r0;
  if (after.localPort === before.localPort) throw new Error(`the browser's local port stayed ${before.localPort} across the restart`);
  let server = null;
  await until(async () => { server = (await s.server()).transport; return server && server.remote === after.local; }, 5000,
    () => `rtcwire's selected pair reaching the browser's new candidate ${after.local} (rtcwire: ${JSON.stringify(server)})`);
  return {browser_before: before, browser_after: after, rtcwire_after: {local: server.local, remote: server.remote}};
}

// The SRTP profiles (as Chromium's srtpCipher names them) and their scenario names.
const SRTP_PROFILES = {
  'srtp-aead-aes-128-gcm': 'SRTP_AEAD_AES_128_GCM',
  'srtp-aead-aes-256-gcm': 'SRTP_AEAD_AES_256_GCM',
  'srtp-aes-cm-128-hmac-sha1-80': 'SRTP_AES128_CM_HMAC_SHA1_80',
};
// rtcwire offers and accepts only `profile`; media echoes, and both sides report it.
async function srtpProfile(t, profile) {
  const s = new Session();
  await withCamera(s, 'VP8');
  await s.browserOffers({echo: ['audio', 'video'], srtp: profile});
  await until(async () => { const r = await rtpStats(s.pc); return (r.inbound.video || {}).framesDecoded >= 10 && (r.inbound.audio || {}).packets >= 10; },
    10000, '10 video frames and 10 audio packets back from rtcwire');
  t.ten_frames = now() - s.t0;
  const browser = await transportStats(s.pc);
  const server = await s.server();
  s.close();
  if (browser.srtpCipher !== profile) throw new Error(`the browser reports srtpCipher ${browser.srtpCipher}, rtcwire was to insist on ${profile}`);
  if (!server.transport || server.transport.srtp_profile !== profile) throw new Error('rtcwire reports ' + JSON.stringify(server.transport));
  if (!(server.media.video_frames > 0 && server.media.audio_frames > 0)) throw new Error('rtcwire took ' + JSON.stringify(server.media));
  return {browser: browser.srtpCipher, rtcwire: server.transport.srtp_profile, rtcwire_frames: server.media};
}
for (const [name, profile] of Object.entries(SRTP_PROFILES)) SCENARIOS[name] = t => srtpProfile(t, profile);
// Chromium does not offer AES_CM_128_HMAC_SHA1_32 (WebRTC's crypto option for it is off by
// default): rtcwire insisting on it gets no SRTP keys, and no media flows either way.
SCENARIOS['srtp-aes-cm-128-hmac-sha1-32-not-offered'] = async function (t) {
  const s = new Session();
  await withCamera(s, 'VP8');
  await s.browserOffers({echo: ['audio', 'video'], srtp: 'SRTP_AES128_CM_HMAC_SHA1_32'});
  // DTLS completes (without use_srtp); a working session decodes its first frames well
  // within the second waited after that.
  await until(async () => ['connected', 'failed'].includes((await transportStats(s.pc) || {}).dtlsState), 5000, 'DTLS done');
  t.dtls_done = now() - s.t0;
  await sleep(1000);
  const browser = await transportStats(s.pc), r = await rtpStats(s.pc), server = await s.server();
  s.close();
  if ((r.inbound.video || {}).framesDecoded > 0) throw new Error('media flowed: ' + JSON.stringify(r.inbound.video));
  if (browser && browser.srtpCipher) throw new Error('the browser negotiated ' + browser.srtpCipher);
  if (server.transport && server.transport.srtp_profile) throw new Error('rtcwire negotiated ' + server.transport.srtp_profile);
  if (server.media.video_frames > 0) throw new Error('rtcwire took frames: ' + JSON.stringify(server.media));
  return {browser_state: s.pc.connectionState, dtls_state: browser && browser.dtlsState, rtcwire_state: server.state};
};

Object.assign(SCENARIOS, {
  // 5 % of RTP and RTCP dropped each way by rtcwire's driver (test-only option): both
  // sides ask for what is missing and both answer.
  async 'media-nack-loss'(t) {
    const s = new Session();
    await withCamera(s, 'VP8');
    await s.browserOffers({echo: ['audio', 'video'], loss: 50});
    let r = null, server = null;
    await until(async () => {
      r = await rtpStats(s.pc); server = await s.server();
      const vi = r.inbound.video || {}, vo = r.outbound.video || {};
      return vi.framesDecoded >= 60 && vi.nackCount > 0 && vo.nackCount > 0 && vo.retransmitted > 0
        && server.rtp.nacks_sent > 0 && server.rtp.retransmitted > 0;
    }, 15000, () => 'NACKs both ways and 60 frames decoded: browser ' + JSON.stringify(r) + ' rtcwire ' + JSON.stringify(server && server.rtp));
    t.nacked_both_ways = now() - s.t0;
    // Frames the browser decoded against the frames rtcwire took and sent back (a few are
    // still on their way when counted).
    const share = r.inbound.video.framesDecoded / server.media.video_frames;
    s.close();
    if (share < 0.9) throw new Error(`the browser decoded ${r.inbound.video.framesDecoded} of the ${server.media.video_frames} frames rtcwire echoed`);
    return {decoded: r.inbound.video.framesDecoded, echoed: server.media.video_frames, share: +share.toFixed(3),
      browser: {nacks_sent: r.inbound.video.nackCount, nacks_received: r.outbound.video.nackCount, retransmitted: r.outbound.video.retransmitted,
        lost: r.inbound.video.lost},
      rtcwire: server.rtp};
  },
  // A data-channel session, then the browser adds its camera and a second channel
  // (renegotiation), then removes the track (renegotiation) and stops the transceiver.
  async 'renegotiate-by-browser'(t) {
    const s = new Session();
    showRemote(s.pc, 'remote');
    const dc = s.pc.createDataChannel('first');
    await s.browserOffers();
    await withTimeout(waitOpen(dc), 10000, 'open'); t.dc_open = now() - s.t0;
    await echo(dc, ['before renegotiation']);
    const stream = await navigator.mediaDevices.getUserMedia({video: {width: 320, height: 240, frameRate: 30}});
    const sender = s.pc.addTrack(stream.getVideoTracks()[0], stream);
    const dc2 = s.pc.createDataChannel('second');
    const r0 = now();
    await s.browserOffers({echo: ['video']});
    await withTimeout(waitOpen(dc2), 10000, 'the second channel open');
    await echo(dc2, ['on the second channel', bytes(3000)]);
    await echo(dc, ['still on the first']);
    await until(async () => ((await rtpStats(s.pc)).inbound.video || {}).framesDecoded >= 10, 10000, '10 echoed video frames after adding the track');
    t.video_added = now() - r0;
    const added = (await s.server()).transceivers;
    if (!added.some(x => x.kind === 'video' && x.current_direction === 'sendrecv')) throw new Error('rtcwire\'s transceivers after adding: ' + JSON.stringify(added));
    // removeTrack: the browser no longer sends; rtcwire's side stops receiving (its track
    // is muted, as a browser's would be: frames stop, the track does not end).
    s.pc.removeTrack(sender);
    const r1 = now();
    await s.browserOffers();
    let st = null;
    await until(async () => { st = await s.server(); return st.transceivers.some(x => x.kind === 'video' && x.current_direction === 'sendonly'); },
      5000, () => 'rtcwire seeing the browser stop sending: ' + JSON.stringify(st));
    t.track_removed = now() - r1;
    const removed = st.transceivers, framesThen = st.media.video_frames;
    await sleep(300);
    st = await s.server();
    if (st.media.video_frames > framesThen + 1) throw new Error(`rtcwire still took frames after removeTrack: ${framesThen} -> ${st.media.video_frames}`);
    // stop(): the section goes to port 0; rtcwire's transceiver is stopped.
    const tr = s.pc.getTransceivers().find(x => x.sender === sender);
    tr.stop();
    await s.browserOffers();
    await until(async () => { st = await s.server(); return !st.transceivers.some(x => x.kind === 'video' && x.current_direction) && st.tracks_ended >= 1; },
      5000, () => 'rtcwire seeing the transceiver stopped and its track ended: ' + JSON.stringify(st));
    await echo(dc2, ['after the track went']);
    t.stopped = now() - r1;
    s.close();
    return {added, removed, stopped: st.transceivers, tracks_ended: st.tracks_ended};
  },
  // rtcwire renegotiates: it adds a channel and a video track to a running session and
  // offers (GET-offer/POST-answer as when it opens the session).
  async 'renegotiate-by-rtcwire'(t) {
    const s = new Session();
    const dc = s.pc.createDataChannel('first');
    await s.browserOffers();
    await withTimeout(waitOpen(dc), 10000, 'open'); t.dc_open = now() - s.t0;
    const gotChannel = waitFor(s.pc, 'datachannel'), gotTrack = waitFor(s.pc, 'track');
    const r0 = now();
    const offer = await post('/renegotiate', {id: s.id, channel: 'from-rtcwire', media: ['video']});
    await s.pc.setRemoteDescription(offer);
    const answer = await s.pc.createAnswer();
    await s.pc.setLocalDescription(answer);
    await post('/answer', {id: s.id, type: 'answer', sdp: answer.sdp});
    const dc2 = (await withTimeout(gotChannel, 10000, 'rtcwire\'s new channel')).channel;
    await withTimeout(waitOpen(dc2), 10000, 'rtcwire\'s new channel open');
    await echo(dc2, ['on rtcwire\'s channel']);
    const track = (await withTimeout(gotTrack, 10000, 'rtcwire\'s new track')).track;
    t.renegotiated = now() - r0;
    await echo(dc, ['still on the first']);
    const st = await s.server();
    s.close();
    if (track.kind !== 'video') throw new Error('a ' + track.kind + ' track came');
    if (!st.transceivers.some(x => x.kind === 'video' && x.current_direction === 'sendonly')) throw new Error('rtcwire\'s transceivers: ' + JSON.stringify(st.transceivers));
    if (!st.channels.some(c => c.label === 'from-rtcwire')) throw new Error('rtcwire lists ' + JSON.stringify(st.channels));
    return {channel: dc2.label, track: track.kind, rtcwire_transceivers: st.transceivers};
  },
  // rtcwire offers audio, video and a channel; the browser answers with its camera and
  // microphone on those transceivers; rtcwire echoes; the browser decodes.
  async 'media-rtcwire-offers'(t) {
    const s = new Session();
    showRemote(s.pc, 'remote');
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 320, height: 240, frameRate: 30}});
    await s.rtcwireOffers('/rtcwire-offer', {media: ['audio', 'video']}, async () => {
      for (const tr of s.pc.getTransceivers()) {
        const track = stream.getTracks().find(x => x.kind === tr.receiver.track.kind);
        if (!track) continue;
        tr.direction = 'sendrecv';
        await tr.sender.replaceTrack(track);
        tr.sender.setStreams(stream);
      }
    });
    await until(async () => ((await rtpStats(s.pc)).inbound.video || {}).framesDecoded > 0, 10000, 'a first video frame decoded from rtcwire');
    t.first_video_frame = now() - s.t0;
    await until(async () => { const r = await rtpStats(s.pc); return (r.inbound.video || {}).framesDecoded >= 30 && (r.inbound.audio || {}).packets >= 30; },
      10000, '30 video frames and 30 audio packets back from rtcwire');
    t.thirty_frames = now() - s.t0;
    const r = await rtpStats(s.pc);
    const st = await s.server();
    const look = videoNonBlank(document.getElementById('remote'));
    s.close();
    const dirs = st.transceivers.map(x => x.kind + ':' + x.current_direction).sort().join(',');
    if (dirs !== 'audio:sendrecv,video:sendrecv') throw new Error('rtcwire\'s transceivers: ' + dirs);
    if (!(st.media.video_frames > 0 && st.media.audio_frames > 0)) throw new Error('rtcwire took ' + JSON.stringify(st.media));
    if (!look.nonblank) throw new Error('the echoed picture is blank');
    return {browser: r.inbound, rtcwire: st.media, transceivers: dirs};
  },
});

// Timing only (`cargo xtask interop --bench`): `runs` media sessions one after the other,
// each timed from createOffer to the first decoded echoed video frame.
SCENARIOS['media-open-timing'] = async function (t) {
  const runs = Math.min(+(params.get('runs') || 20), 200);
  const firstFrame = [];
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 320, height: 240, frameRate: 30}});
  for (let i = 0; i < runs; i++) {
    const s = new Session();
    s.pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendrecv', streams: [stream]});
    s.pc.addTransceiver(stream.getAudioTracks()[0], {direction: 'sendrecv', streams: [stream]});
    await s.browserOffers({echo: ['audio', 'video']});
    await until(async () => ((await rtpStats(s.pc)).inbound.video || {}).framesDecoded > 0, 10000, 'a first video frame (run ' + i + ')');
    firstFrame.push(+(now() - s.t0).toFixed(1));
    s.close();
    await sleep(30);
  }
  return {runs, first_video_frame: firstFrame};
};

// Chromium's default of naming its host candidates `<uuid>.local` (mDNS) when the page has
// no media permission: rtcwire resolves the names (its driver's one-shot mDNS query) and
// connects. Runs in a launch of its own without the fake media UI (see the harness).
SCENARIOS['mdns-dc-echo'] = async function (t) {
  const s = new Session();
  const seen = [];
  s.pc.addEventListener('icecandidate', ev => { if (ev.candidate && ev.candidate.candidate) seen.push(ev.candidate.candidate); });
  const dc = s.pc.createDataChannel('mdns');
  await s.browserOffers();
  await withTimeout(waitGathering(s.pc), 5000, 'gathering complete');
  t.gathered = now() - s.t0;
  const named = seen.filter(c => /^candidate:\S+ \d+ udp \d+ \S+\.local /i.test(c));
  if (!named.length) throw new Error('the browser gathered no .local candidate: ' + JSON.stringify(seen));
  await withTimeout(waitOpen(dc), 10000, 'channel open');
  t.dc_open = now() - s.t0;
  await echo(dc, ['over an mDNS-named candidate']);
  // rtcwire resolved the name (its driver gives up on one, Event::ResolveHostname, after
  // three unanswered queries a second apart) and its selected pair is the resolved host
  // candidate, the name still on it.
  const names = named.map(c => c.split(' ')[4]);
  let st = null;
  await until(async () => { st = await s.server(); return st.unresolved.length > 0 || names.some(n => st.transport.selected_remote === 'Host ' + n); },
    5000, () => 'rtcwire selecting the resolved ' + names.join(', ') + ': ' + JSON.stringify(st.transport));
  t.resolved_pair = now() - s.t0;
  s.close();
  if (st.unresolved.length) throw new Error('rtcwire could not resolve ' + st.unresolved.join(', ') + ' (selected pair ' + st.transport.selected_pair + ')');
  return {browser_candidates: seen, rtcwire: st.transport};
};
