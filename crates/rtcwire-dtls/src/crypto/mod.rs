//! Cryptography, all from ring: the PRF and what it derives, cipher suites, ECDHE, signatures.

pub(crate) mod kx;
pub(crate) mod prf;
pub(crate) mod rand;
pub(crate) mod sign;
pub(crate) mod suite;

use prf::PrfHash;
use suite::BulkCipher;

/// Keys and implicit IVs of both directions, cut from the key block (RFC 5246 §6.3; AEAD
/// suites have no MAC keys).
pub(crate) struct KeyBlock {
    pub(crate) client_key: Vec<u8>,
    pub(crate) server_key: Vec<u8>,
    pub(crate) client_iv: Vec<u8>,
    pub(crate) server_iv: Vec<u8>,
}

impl KeyBlock {
    pub(crate) fn derive(
        hash: PrfHash,
        bulk: BulkCipher,
        master: &[u8; 48],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> KeyBlock {
        let k = bulk.key_len();
        let iv = bulk.fixed_iv_len();
        let mut block = vec![0u8; 2 * (k + iv)];
        prf::prf(
            hash,
            master,
            b"key expansion",
            &[server_random, client_random],
            &mut block,
        );
        let take = |from: usize, len: usize| block.get(from..from + len).unwrap_or(&[]).to_vec();
        let kb = KeyBlock {
            client_key: take(0, k),
            server_key: take(k, k),
            client_iv: take(2 * k, iv),
            server_iv: take(2 * k + iv, iv),
        };
        block.iter_mut().for_each(|b| *b = 0);
        kb
    }
}

impl Drop for KeyBlock {
    fn drop(&mut self) {
        for v in [
            &mut self.client_key,
            &mut self.server_key,
            &mut self.client_iv,
            &mut self.server_iv,
        ] {
            v.iter_mut().for_each(|b| *b = 0);
        }
    }
}

/// The keying material exporter of RFC 5705 §4, without context:
/// `PRF(master_secret, label, client_random || server_random)[..len]`.
pub(crate) fn export(
    hash: PrfHash,
    master: &[u8; 48],
    label: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    out: &mut [u8],
) {
    prf::prf(hash, master, label, &[client_random, server_random], out);
}
