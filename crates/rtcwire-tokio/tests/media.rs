//! Media between two driven sessions on 127.0.0.1: tracks announced, frames sent and
//! echoed back on the transceiver the offer made, keyframe requests both ways, a track
//! whose application is behind loses its oldest frames and asks for a keyframe.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{loopback, within};
use rtcwire_tokio::{
    Codec, Direction, Event, Events, KeyframeKind, MediaKind, PeerConnection, Track,
};

/// A VP8-looking frame: the keyframe bit (P = 0) then a counter, then filler.
fn video_frame(n: u32, keyframe: bool, size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size];
    f[0] = if keyframe { 0x10 } else { 0x11 };
    f[1..5].copy_from_slice(&n.to_be_bytes());
    for (i, b) in f.iter_mut().enumerate().skip(5) {
        *b = (i as u32).wrapping_mul(31).wrapping_add(n) as u8;
    }
    f
}

/// Waits for the next `Event::Track`, skipping others.
async fn next_track(events: &mut Events) -> Track {
    within("a track from the peer", async {
        loop {
            match events.next_event().await {
                Some(Event::Track(t)) => return t,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await
}

/// A offers audio and video; B answers sendrecv on the transceivers the offer made.
async fn av_pair(
    b_config: rtcwire_tokio::Config,
) -> (PeerConnection, Events, PeerConnection, Events) {
    let (a, ea) = PeerConnection::new(loopback()).await.unwrap();
    let (b, eb) = PeerConnection::new(b_config).await.unwrap();
    let audio = a.add_track(MediaKind::Audio, &["a"]).await.unwrap();
    let video = a.add_track(MediaKind::Video, &["a"]).await.unwrap();
    assert_eq!(
        (audio.kind(), video.kind()),
        (MediaKind::Audio, MediaKind::Video)
    );
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let made = b.transceivers().await.unwrap();
    assert_eq!(made.len(), 2, "the offer made two transceivers");
    for t in &made {
        t.set_direction(Direction::SendRecv).await.unwrap();
    }
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(answer).await.unwrap();
    within("a connected", a.connected()).await.unwrap();
    within("b connected", b.connected()).await.unwrap();
    (a, ea, b, eb)
}

#[tokio::test]
async fn frames_are_echoed_back_on_the_transceiver_the_offer_made() {
    let (a, mut ea, b, mut eb) = av_pair(loopback()).await;
    let mut far_audio = next_track(&mut eb).await;
    let mut far_video = next_track(&mut eb).await;
    if far_audio.kind() == MediaKind::Video {
        std::mem::swap(&mut far_audio, &mut far_video);
    }
    assert_eq!(far_video.kind(), MediaKind::Video);
    assert_eq!(far_video.stream_ids(), ["a".to_owned()]);
    let back = far_video.transceiver().clone();
    assert_eq!(
        back.current_direction().await.unwrap(),
        Some(Direction::SendRecv)
    );
    // A also hears B will send on both.
    let mut near_audio = next_track(&mut ea).await;
    let mut near_video = next_track(&mut ea).await;
    if near_audio.kind() == MediaKind::Video {
        std::mem::swap(&mut near_audio, &mut near_video);
    }
    assert_eq!(near_video.mid(), far_video.mid());
    let out = near_video.transceiver().clone();
    let audio_out = near_audio.transceiver().clone();
    let vp8 = out.payload_type(Codec::Vp8).await.unwrap().unwrap();
    let opus = audio_out.payload_type(Codec::Opus).await.unwrap().unwrap();
    assert!(out
        .negotiated_codecs()
        .await
        .unwrap()
        .contains(&(vp8, Codec::Vp8)));

    // B: every frame back as it comes.
    let echo = tokio::spawn(async move {
        let mut n = 0u32;
        while let Some(f) = far_video.recv().await {
            let pt = back.payload_type(f.codec).await.unwrap().unwrap();
            back.write_frame(pt, f.rtp_timestamp, &f.data)
                .await
                .unwrap();
            n += 1;
        }
        n
    });
    let audio_in = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(f) = far_audio.recv().await {
            got.push(f);
        }
        got
    });
    let total = 100u32;
    let (out2, audio2) = (out.clone(), audio_out.clone());
    let sender = tokio::spawn(async move {
        for n in 0..total {
            // 20 kB keyframes: 17 packets each.
            let f = video_frame(n, n % 25 == 0, if n % 25 == 0 { 20_000 } else { 1_200 });
            out2.write_frame(vp8, n * 3000, &f).await.unwrap();
            audio2
                .write_frame(opus, n * 960, &[0xfc, n as u8, 1, 2, 3])
                .await
                .unwrap();
            if n % 10 == 9 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    });
    for n in 0..total {
        let f = within("an echoed frame", near_video.recv()).await.unwrap();
        assert_eq!(f.rtp_timestamp, n * 3000);
        assert_eq!(f.codec, Codec::Vp8);
        assert_eq!(f.keyframe, n % 25 == 0);
        assert_eq!(f.data, video_frame(n, n % 25 == 0, f.data.len()));
    }
    sender.await.unwrap();
    assert_eq!(near_video.dropped_frames(), 0);

    // A keyframe request from A reaches B's transceiver, as an event and on the handle.
    let mut watcher = transceiver_with_mid(&b, near_video.mid()).await;
    near_video.request_keyframe().await.unwrap();
    let kind = within("keyframe request", watcher.next_keyframe_request()).await;
    assert_eq!(kind.unwrap(), KeyframeKind::Pli);
    assert_eq!(watcher.keyframe_requests(), 1);
    within("the event", async {
        loop {
            if let Some(Event::KeyframeRequest { transceiver, kind }) = eb.next_event().await {
                assert_eq!((transceiver, kind), (watcher.id(), KeyframeKind::Pli));
                return;
            }
        }
    })
    .await;

    let stats = a.get_stats().await.unwrap();
    let o = stats
        .outbound_rtp
        .iter()
        .find(|s| s.transceiver == out.id())
        .unwrap();
    assert_eq!(o.frames_sent, u64::from(total));
    let i = stats
        .inbound_rtp
        .iter()
        .find(|s| s.codec == Codec::Vp8)
        .unwrap();
    assert_eq!(i.frames_received, u64::from(total));

    // Stopping B's transceiver ends its track: the echo task ends.
    watcher.stop().await.unwrap();
    assert_eq!(within("echo ends", echo).await.unwrap(), total);
    // B's next offer says so (port 0): once A answered, A's track of it ends too, and the
    // audio goes on.
    let offer = b.create_offer().await.unwrap();
    b.set_local_description(offer.clone()).await.unwrap();
    a.set_remote_description(offer).await.unwrap();
    let answer = a.create_answer().await.unwrap();
    a.set_local_description(answer.clone()).await.unwrap();
    b.set_remote_description(answer).await.unwrap();
    assert_eq!(out.current_direction().await.unwrap(), None);
    assert!(within("A's video track ends", near_video.recv())
        .await
        .is_none());
    assert_eq!(
        audio_out.current_direction().await.unwrap(),
        Some(Direction::SendRecv)
    );
    // Closing ends every track (B's audio reader got every frame, in order) and every
    // wait for a keyframe request (so a task waiting there lets the session go).
    let mut audio_back = transceiver_with_mid(&b, near_audio.mid()).await;
    let waiting = tokio::spawn(async move { audio_back.next_keyframe_request().await });
    a.close().await.unwrap();
    within("b closed", b.closed()).await;
    let ended = within("the wait ends", waiting).await.unwrap();
    assert!(
        matches!(ended, Err(rtcwire_tokio::Error::Closed)),
        "{ended:?}"
    );
    let audio = within("audio reader ends", audio_in).await.unwrap();
    assert_eq!(audio.len(), total as usize);
    for (n, f) in (0..total).zip(&audio) {
        assert_eq!((f.codec, f.rtp_timestamp), (Codec::Opus, n * 960));
        assert_eq!(f.data[..], [0xfc, n as u8, 1, 2, 3]);
    }
}

/// B's transceiver with this mid.
async fn transceiver_with_mid(b: &PeerConnection, mid: &str) -> rtcwire_tokio::Transceiver {
    for t in b.transceivers().await.unwrap() {
        if t.mid().await.unwrap().as_deref() == Some(mid) {
            return t;
        }
    }
    panic!("no transceiver {mid}")
}

#[tokio::test]
async fn a_track_behind_drops_its_oldest_frames_and_asks_once_for_a_keyframe() {
    let mut config = loopback();
    config.track_capacity = 4;
    let (a, mut ea, _b, mut eb) = av_pair(config).await;
    let mut far = next_track(&mut eb).await;
    if far.kind() == MediaKind::Audio {
        far = next_track(&mut eb).await;
    }
    let mut out = loop {
        let t = next_track(&mut ea).await;
        if t.kind() == MediaKind::Video {
            break a
                .transceivers()
                .await
                .unwrap()
                .into_iter()
                .find(|x| x.id() == t.transceiver().id())
                .unwrap();
        }
    };
    let vp8 = out.payload_type(Codec::Vp8).await.unwrap().unwrap();
    let total = 20u32;
    for n in 0..total {
        out.write_frame(vp8, n * 3000, &video_frame(n, n == 0, 800))
            .await
            .unwrap();
    }
    // The overflow asked A for a keyframe once.
    let kind = within("keyframe request", out.next_keyframe_request()).await;
    assert_eq!(kind.unwrap(), KeyframeKind::Pli);
    // Nobody read: the newest four are kept.
    within("frames dropped", async {
        while far.dropped_frames() < u64::from(total - 4) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    for n in total - 4..total {
        let f = within("a kept frame", far.recv()).await.unwrap();
        assert_eq!(f.rtp_timestamp, n * 3000);
    }
    assert_eq!(far.dropped_frames(), u64::from(total - 4));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(out.keyframe_requests(), 1, "one request for one loss");
    let stats = a.get_stats().await.unwrap();
    let o = stats
        .outbound_rtp
        .iter()
        .find(|s| s.transceiver == out.id())
        .unwrap();
    assert_eq!(o.pli_count, 1);
}

#[tokio::test]
async fn the_one_srtp_profile_a_side_allows_is_negotiated_and_reported() {
    use rtcwire_tokio::rtcwire::SrtpProfile;
    for profile in [
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
    ] {
        let mut b_config = loopback();
        b_config.session.srtp_profiles = Some(vec![profile]);
        let (a, mut ea, b, mut eb) = av_pair(b_config).await;
        let mut far = next_track(&mut eb).await;
        if far.kind() == MediaKind::Audio {
            far = next_track(&mut eb).await;
        }
        let mut near = next_track(&mut ea).await;
        if near.kind() == MediaKind::Audio {
            near = next_track(&mut ea).await;
        }
        let out = near.transceiver().clone();
        let vp8 = out.payload_type(Codec::Vp8).await.unwrap().unwrap();
        out.write_frame(vp8, 0, &video_frame(0, true, 3000))
            .await
            .unwrap();
        let f = within("a frame under the profile", far.recv())
            .await
            .unwrap();
        assert_eq!(f.data, video_frame(0, true, 3000), "{profile:?}");
        for pc in [&a, &b] {
            let st = pc.get_stats().await.unwrap();
            assert_eq!(st.transport.srtp_profile, Some(profile));
        }
        a.close().await.unwrap();
        b.close().await.unwrap();
    }
}
