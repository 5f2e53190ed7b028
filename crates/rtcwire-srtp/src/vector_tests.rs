//! Packet-level known-answer tests from testdata/vectors/ (byte-exact, both directions).

use std::path::PathBuf;

use rtcwire_proto::SrtpProfile;

use crate::cipher::Gcm;
use crate::kdf::Transform;
use crate::stream::RtcpSend;
use crate::{Config, Context, Ssrc};

pub(crate) fn vectors(name: &str) -> toml::Table {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.parse().unwrap()
}

pub(crate) fn hex_of(t: &toml::Table, k: &str) -> Vec<u8> {
    hex::decode(t[k].as_str().unwrap_or_else(|| panic!("{k}"))).unwrap()
}

/// RFC 7714 gives session keys, not master keys: build the context around them.
fn gcm_context(profile: SrtpProfile, key: &[u8], salt: &[u8], config: Config) -> Context {
    let salt: [u8; 12] = salt.try_into().unwrap();
    let t = || Transform::Gcm {
        aead: Gcm::new(key).unwrap(),
        salt,
    };
    Context::with_transforms(profile, config, t(), t())
}

fn profile_named(name: &str) -> SrtpProfile {
    match name {
        "AEAD_AES_128_GCM" => SrtpProfile::AeadAes128Gcm,
        "AEAD_AES_256_GCM" => SrtpProfile::AeadAes256Gcm,
        other => panic!("unexpected profile {other}"),
    }
}

fn protect_vec(ctx: &mut Context, plain: &[u8], rtcp: bool) -> Vec<u8> {
    let mut buf = plain.to_vec();
    buf.resize(plain.len() + 64, 0);
    let n = if rtcp {
        ctx.protect_rtcp(&mut buf, plain.len()).unwrap()
    } else {
        ctx.protect_rtp(&mut buf, plain.len()).unwrap()
    };
    buf.truncate(n);
    buf
}

#[test]
fn rfc7714_srtp_both_key_sizes() {
    let v = vectors("rfc7714_srtp_aead_gcm.toml");
    let common = v["common"].as_table().unwrap();
    let plain = hex_of(common, "rtp_plaintext_hex");
    let salt = hex_of(common, "salt_hex");
    let cases = v["srtp"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let case = case.as_table().unwrap();
        let profile = profile_named(case["profile"].as_str().unwrap());
        let key = hex_of(common, case["key"].as_str().unwrap());
        let want = hex_of(case, "protected_packet_hex");

        let mut tx = gcm_context(profile, &key, &salt, Config::default());
        assert_eq!(protect_vec(&mut tx, &plain, false), want, "{profile}");

        let mut rx = gcm_context(profile, &key, &salt, Config::default());
        let mut buf = want.clone();
        let n = rx.unprotect_rtp(&mut buf).unwrap();
        assert_eq!(&buf[..n], &plain[..], "{profile}");
    }
}

#[test]
fn rfc7714_srtcp_encrypted_and_tagging_only() {
    let v = vectors("rfc7714_srtp_aead_gcm.toml");
    let common = v["common"].as_table().unwrap();
    let plain = hex_of(common, "rtcp_plaintext_hex");
    let salt = hex_of(common, "salt_hex");
    let index = common["rtcp_srtcp_index"].as_integer().unwrap() as u32;
    let ssrc = common["rtcp_ssrc"].as_integer().unwrap() as u32;
    let cases = v["srtcp"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let case = case.as_table().unwrap();
        let profile = profile_named(case["profile"].as_str().unwrap());
        let key = hex_of(common, case["key"].as_str().unwrap());
        let encrypt_rtcp = case["encrypted"].as_bool().unwrap();
        let want = hex_of(case, "protected_packet_hex");
        let config = Config {
            encrypt_rtcp,
            ..Config::default()
        };

        let mut tx = gcm_context(profile, &key, &salt, config);
        tx.rtcp_send
            .get_or_insert(Ssrc(ssrc), || RtcpSend { next_index: index })
            .unwrap();
        let section = case["section"].as_str().unwrap();
        assert_eq!(protect_vec(&mut tx, &plain, true), want, "{section}");

        // Either form is accepted by a receiver, whatever its own setting.
        let mut rx = gcm_context(profile, &key, &salt, Config::default());
        let mut buf = want.clone();
        let n = rx.unprotect_rtcp(&mut buf).unwrap();
        assert_eq!(&buf[..n], &plain[..], "{section}");
        let mut again = want.clone();
        assert!(rx.unprotect_rtcp(&mut again).is_err(), "{section}: replay");
    }
}

/// libsrtp's own known-answer packet: master key through the KDF, AES-CM, HMAC-SHA1-80.
#[test]
fn libsrtp_known_packet() {
    let v = vectors("libsrtp_aes_cm_128_hmac_sha1_80.toml");
    let p = v["srtp_packet"].as_table().unwrap();
    let key = hex_of(p, "master_key_hex");
    let salt = hex_of(p, "master_salt_hex");
    let plain = hex_of(p, "plaintext_packet_hex");
    let want = hex_of(p, "protected_packet_hex");
    let profile = SrtpProfile::Aes128CmHmacSha1_80;

    let mut tx = Context::new(profile, &key, &salt, Config::default()).unwrap();
    let got = protect_vec(&mut tx, &plain, false);
    assert_eq!(hex::encode(&got), hex::encode(&want));
    assert_eq!(&got[got.len() - 10..], &hex_of(p, "auth_tag_hex")[..]);

    let mut rx = Context::new(profile, &key, &salt, Config::default()).unwrap();
    let mut buf = want.clone();
    let n = rx.unprotect_rtp(&mut buf).unwrap();
    assert_eq!(&buf[..n], &plain[..]);
}
