//! Reused memory for message bytes: a message is copied into a block and handed out as a
//! `Bytes` split from it. Once every message of a block has been dropped (the application
//! took and released what it received; the peer acknowledged what we sent), the block is
//! taken back in place, so a steady flow of messages allocates nothing.
//!
//! Bounds: at most [`MAX_BLOCKS`] blocks of at most [`MAX_BLOCK`] bytes are held. When all
//! are still referenced, the current one is replaced by a fresh block (the old memory goes
//! with its last message). Larger messages get a buffer of their own. An association that
//! has not used its arenas for [`IDLE`] gives the blocks back (an idle connection holds
//! none).

use std::time::Duration;

use bytes::{Bytes, BytesMut};

/// The first block's size; each fresh block doubles it, up to [`MAX_BLOCK`].
const MIN_BLOCK: usize = 4 * 1024;
/// The largest block; also the largest message copied into one.
pub(crate) const MAX_BLOCK: usize = 64 * 1024;
/// Most blocks held at once.
pub(crate) const MAX_BLOCKS: usize = 4;
/// Unused this long, the blocks are given back.
pub(crate) const IDLE: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct Arena {
    /// Blocks and their full sizes.
    blocks: Vec<(BytesMut, usize)>,
    current: usize,
    /// Size of the next fresh block.
    next_size: usize,
    /// Fresh blocks allocated (what a steady flow should keep at its first few).
    pub(crate) blocks_allocated: u64,
}

impl Arena {
    /// `data` as `Bytes`, copied into a block when it fits one.
    pub(crate) fn copy(&mut self, data: &[u8]) -> Bytes {
        if data.is_empty() {
            return Bytes::new();
        }
        if data.len() > MAX_BLOCK {
            return Bytes::copy_from_slice(data);
        }
        let Some(block) = self.block_for(data.len()) else {
            return Bytes::copy_from_slice(data);
        };
        block.extend_from_slice(data);
        block.split().freeze()
    }

    /// A block with room for `len` bytes: the current one, another whose messages are all
    /// gone (taken back in place), or a fresh one.
    fn block_for(&mut self, len: usize) -> Option<&mut BytesMut> {
        let n = self.blocks.len();
        // Room left in a block, or the whole block back when nothing references it (asking
        // for all of it: `try_reclaim` would otherwise shrink the block to `len`).
        let fits = |(b, size): &mut (BytesMut, usize)| {
            b.capacity() >= len || (*size >= len && b.try_reclaim(*size))
        };
        let found = (0..n)
            .map(|k| (self.current + k) % n)
            .find(|&i| self.blocks.get_mut(i).is_some_and(fits));
        let i = match found {
            Some(i) => i,
            None => {
                self.next_size = self.next_size.clamp(MIN_BLOCK, MAX_BLOCK);
                let size = self.next_size.max(len);
                let fresh = (BytesMut::with_capacity(size), size);
                self.next_size = self.next_size.saturating_mul(2);
                self.blocks_allocated += 1;
                if n < MAX_BLOCKS {
                    self.blocks.push(fresh);
                    n
                } else {
                    // Every block is still referenced: replace the current one.
                    let i = self.current.min(n - 1);
                    *self.blocks.get_mut(i)? = fresh;
                    i
                }
            }
        };
        self.current = i;
        self.blocks.get_mut(i).map(|(b, _)| b)
    }

    /// Makes the current block one with room for `first` bytes, for a message assembled
    /// piece by piece with [`append`](Self::append) and ended by [`finish`](Self::finish)
    /// (nothing else may use the arena meanwhile).
    pub(crate) fn start_assembly(&mut self, first: usize) -> bool {
        first <= MAX_BLOCK && self.block_for(first).is_some()
    }

    /// Appends to the message being assembled. When the block is full, what was assembled
    /// moves to a block with room for a whole [`MAX_BLOCK`] message (a copy, so that a
    /// message that turns out short never takes a large block of its own); false when the
    /// message would pass [`MAX_BLOCK`].
    pub(crate) fn append(&mut self, data: &[u8]) -> bool {
        let Some((b, _)) = self.blocks.get_mut(self.current) else {
            return false;
        };
        if b.capacity() - b.len() >= data.len() {
            b.extend_from_slice(data);
            return true;
        }
        if b.len() + data.len() > MAX_BLOCK {
            return false;
        }
        let partial = b.split();
        let Some(block) = self.block_for(MAX_BLOCK) else {
            return false;
        };
        block.extend_from_slice(&partial);
        block.extend_from_slice(data);
        true
    }

    /// The assembled message.
    pub(crate) fn finish(&mut self) -> Bytes {
        self.take_partial().freeze()
    }

    /// What was assembled so far, taken out (the block comes back once it is dropped).
    pub(crate) fn take_partial(&mut self) -> BytesMut {
        self.blocks
            .get_mut(self.current)
            .map(|(b, _)| b.split())
            .unwrap_or_default()
    }

    /// Whether any block is held.
    pub(crate) fn holds(&self) -> bool {
        !self.blocks.is_empty()
    }

    /// Gives the blocks back (messages still referenced keep their own block alive).
    pub(crate) fn release(&mut self) {
        self.blocks = Vec::new();
        self.current = 0;
        self.next_size = MIN_BLOCK;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(b: &Bytes, range: &std::ops::Range<usize>) -> bool {
        let p = b.as_ptr() as usize;
        range.contains(&p)
    }

    #[test]
    fn dropped_messages_give_their_block_back() {
        let mut a = Arena::default();
        let first = a.copy(&[1; 1000]);
        let start = first.as_ptr() as usize;
        let block = start..start + MIN_BLOCK;
        drop(first);
        for i in 0..100u8 {
            let m = a.copy(&[i; 1000]);
            assert_eq!(m, vec![i; 1000]);
            assert!(within(&m, &block), "message {i} outside the first block");
        }
        assert_eq!(a.blocks_allocated, 1);
    }

    #[test]
    fn held_messages_make_fresh_blocks_up_to_the_cap() {
        let mut a = Arena::default();
        let held: Vec<Bytes> = (0..300u16)
            .map(|i| a.copy(&i.to_be_bytes().repeat(500)))
            .collect();
        for (i, m) in held.iter().enumerate() {
            assert_eq!(m, &(i as u16).to_be_bytes().repeat(500));
        }
        assert!(a.blocks.len() <= MAX_BLOCKS);
        assert!(a.blocks.iter().all(|(b, _)| b.capacity() <= MAX_BLOCK));
        // 300 KB held: blocks of 4, 8, 16, 32 KiB, then 64 KiB ones replacing each other.
        assert!(a.blocks_allocated >= 6, "{}", a.blocks_allocated);
        drop(held);
        let before = a.blocks_allocated;
        for _ in 0..1000 {
            let _ = a.copy(&[7; 1000]);
        }
        assert_eq!(a.blocks_allocated, before, "a freed block is reused");
    }

    #[test]
    fn an_assembly_moves_to_a_larger_block_and_gives_it_back() {
        let mut a = Arena::default();
        let small = a.copy(&[1; 100]);
        // Starts in the 4 KiB block, moves to one with room for 64 KiB, completes there.
        assert!(a.start_assembly(1024));
        for i in 0..64u8 {
            assert!(a.append(&[i; 1024]), "piece {i}");
        }
        assert!(!a.append(&[0]), "past 64 KiB");
        let m = a.finish();
        assert_eq!(m.len(), MAX_BLOCK);
        assert!(m
            .chunks(1024)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == i as u8)));
        assert_eq!(small, vec![1; 100]);
        let start = m.as_ptr() as usize;
        drop(m);
        // The same block again for the next one.
        assert!(a.start_assembly(10));
        assert!(a.append(&[9; 10]));
        let partial = a.take_partial();
        assert_eq!(&partial[..], &[9; 10]);
        assert!((start..start + MAX_BLOCK).contains(&(partial.as_ptr() as usize)));
        // Short messages share a block.
        drop(partial);
        let before = a.blocks_allocated;
        let kept: Vec<Bytes> = (0..20u8)
            .map(|i| {
                assert!(a.start_assembly(1000));
                assert!(a.append(&[i; 1000]) && a.append(&[i; 1000]));
                a.finish()
            })
            .collect();
        assert!(kept
            .iter()
            .enumerate()
            .all(|(i, m)| m[..] == [i as u8; 2000][..]));
        assert!(
            a.blocks_allocated <= before + 1,
            "40 KB in {} blocks",
            a.blocks_allocated - before
        );
    }

    #[test]
    fn large_and_empty_messages_bypass_the_blocks() {
        let mut a = Arena::default();
        assert!(a.copy(&[]).is_empty());
        let big = a.copy(&vec![3; MAX_BLOCK + 1]);
        assert_eq!(big.len(), MAX_BLOCK + 1);
        assert!(!a.holds());
        let m = a.copy(&[5; 10]);
        assert!(a.holds());
        a.release();
        assert!(!a.holds());
        assert_eq!(
            m,
            vec![5; 10],
            "a released arena leaves its messages intact"
        );
    }
}
