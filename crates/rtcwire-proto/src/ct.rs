//! The one constant-time comparison of the workspace.

/// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths:
/// every byte pair is compared whatever differs first. For authentication tags, MACs,
/// cookies, Finished verify_data and keying material; the lengths themselves are not secret
/// (unequal lengths return `false` at once).
///
/// Each step goes through [`std::hint::black_box`] so that the optimiser cannot turn the
/// loop back into an early-exit comparison.
///
/// ```
/// use rtcwire_proto::ct_eq;
/// assert!(ct_eq(b"tag", b"tag"));
/// assert!(!ct_eq(b"tag", b"tab"));
/// assert!(!ct_eq(b"tag", b"ta"));
/// ```
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff = std::hint::black_box(diff | (x ^ y));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn equal_unequal_and_lengths() {
        assert!(ct_eq(&[], &[]));
        assert!(ct_eq(&[1, 2, 3], &[1, 2, 3]));
        assert!(!ct_eq(&[1, 2, 3], &[1, 2, 4]));
        assert!(!ct_eq(&[0x80, 2, 3], &[0, 2, 3]));
        assert!(!ct_eq(&[1, 2, 3], &[1, 2]));
        assert!(!ct_eq(&[], &[0]));
    }
}
