//! The TLS 1.2 PRF (RFC 5246 §5) and what is derived with it: master secret (with and
//! without RFC 7627 EMS), key block, Finished verify_data and the RFC 5705 exporter.

use ring::{digest, hmac};

/// The hash behind the PRF and the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrfHash {
    /// SHA-256 (P_SHA256).
    Sha256,
    /// SHA-384 (P_SHA384).
    Sha384,
}

impl PrfHash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            PrfHash::Sha256 => hmac::HMAC_SHA256,
            PrfHash::Sha384 => hmac::HMAC_SHA384,
        }
    }

    pub(crate) fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            PrfHash::Sha256 => &digest::SHA256,
            PrfHash::Sha384 => &digest::SHA384,
        }
    }

    /// Hash of `data`.
    pub(crate) fn hash(self, data: &[u8]) -> digest::Digest {
        digest::digest(self.digest_alg(), data)
    }
}

/// `PRF(secret, label, seed)` written into `out` (P_hash of RFC 5246 §5). The seed is
/// given in parts so callers need not concatenate.
pub fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let key = hmac::Key::new(hash.hmac(), secret);
    // A(1) = HMAC(secret, label || seed)
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    for s in seed {
        ctx.update(s);
    }
    let mut a = ctx.sign();
    let mut filled = 0;
    // Bounded: each pass fills at least one hash length.
    while filled < out.len() {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(label);
        for s in seed {
            ctx.update(s);
        }
        let block = ctx.sign();
        let n = block.as_ref().len().min(out.len() - filled);
        if let (Some(dst), Some(src)) = (out.get_mut(filled..filled + n), block.as_ref().get(..n)) {
            dst.copy_from_slice(src);
        }
        filled += n;
        a = hmac::sign(&key, a.as_ref());
    }
}

/// The 48-byte master secret. With `session_hash` (EMS, RFC 7627 §4) the label is
/// "extended master secret" and the seed the transcript hash through ClientKeyExchange;
/// otherwise "master secret" over both randoms.
pub(crate) fn master_secret(
    hash: PrfHash,
    pre_master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    session_hash: Option<&[u8]>,
) -> [u8; 48] {
    let mut ms = [0u8; 48];
    match session_hash {
        Some(h) => prf(hash, pre_master, b"extended master secret", &[h], &mut ms),
        None => prf(
            hash,
            pre_master,
            b"master secret",
            &[client_random, server_random],
            &mut ms,
        ),
    }
    ms
}

/// `verify_data` of a Finished message (12 bytes).
pub(crate) fn verify_data(
    hash: PrfHash,
    master: &[u8; 48],
    client: bool,
    transcript: &[u8],
) -> [u8; 12] {
    let label: &[u8] = if client {
        b"client finished"
    } else {
        b"server finished"
    };
    let h = hash.hash(transcript);
    let mut out = [0u8; 12];
    prf(hash, master, label, &[h.as_ref()], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexd(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    /// testdata/vectors/tls12_prf_sha256.toml.
    #[test]
    fn prf_sha256_vector() {
        let text = include_str!("../../../../testdata/vectors/tls12_prf_sha256.toml");
        let v: toml::Value = toml::from_str(text).expect("toml");
        let p = &v["prf"];
        let secret = hexd(p["secret_hex"].as_str().expect("secret"));
        let label = p["label"].as_str().expect("label");
        let seed = hexd(p["seed_hex"].as_str().expect("seed"));
        let want = hexd(p["output_hex"].as_str().expect("out"));
        let mut out = vec![0u8; want.len()];
        prf(
            PrfHash::Sha256,
            &secret,
            label.as_bytes(),
            &[&seed],
            &mut out,
        );
        assert_eq!(out, want);
        // The split seed form gives the same bytes.
        let mut out2 = vec![0u8; want.len()];
        let (a, b) = seed.split_at(5);
        prf(
            PrfHash::Sha256,
            &secret,
            label.as_bytes(),
            &[a, b],
            &mut out2,
        );
        assert_eq!(out2, want);
    }

    #[test]
    fn ems_and_classic_master_secrets_differ() {
        let cr = [1u8; 32];
        let sr = [2u8; 32];
        let a = master_secret(PrfHash::Sha256, b"pms", &cr, &sr, None);
        let b = master_secret(PrfHash::Sha256, b"pms", &cr, &sr, Some(&[3u8; 32]));
        assert_ne!(a, b);
        let c = master_secret(PrfHash::Sha384, b"pms", &cr, &sr, None);
        assert_ne!(a, c);
    }
}
