//! Sorting object keys into sign-text order, fast for the protocol's objects.

use super::KeyOrder;

/// The positions of `keys` in `order`.
fn sorted_positions(keys: &[&str], order: KeyOrder) -> Vec<u32> {
    let mut positions: Vec<u32> = (0..keys.len() as u32).collect();
    // Byte order is Java's order unless a key has a byte from 0xEE up (U+E000 and above).
    let bytes_suffice = order == KeyOrder::Ordinal && keys.iter().all(|k| k.bytes().all(|b| b < 0xEE));
    if bytes_suffice {
        // Sort on the first 8 bytes of each key as one integer, comparing whole keys only
        // on a tie (the position breaks ties between equal keys, which a hand-built Value
        // may hold, so the order never depends on the sort algorithm).
        let prefix = |k: &str| {
            let b = k.as_bytes();
            let mut w = [0u8; 8];
            w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
            u64::from_be_bytes(w)
        };
        let mut keyed: Vec<(u64, u32)> = positions.iter().map(|&i| (prefix(keys[i as usize]), i)).collect();
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| keys[a.1 as usize].as_bytes().cmp(keys[b.1 as usize].as_bytes()))
                .then(a.1.cmp(&b.1))
        });
        positions = keyed.into_iter().map(|(_, i)| i).collect();
    } else {
        positions.sort_by(|&a, &b| order.compare(keys[a as usize], keys[b as usize]).then(a.cmp(&b)));
    }
    positions
}

/// Sorts object keys into sign-text order, remembering the last keys and their order:
/// the objects of one array (the fee lines of a 6201) usually have the same keys in the
/// same order, and then only the first is sorted.
pub(crate) struct KeySorter {
    order: KeyOrder,
    // The last keys, end to end, and where each ends.
    keys: String,
    ends: Vec<usize>,
    pub(crate) positions: Vec<u32>,
}

impl KeySorter {
    pub(crate) fn new(order: KeyOrder) -> Self {
        KeySorter { order, keys: String::new(), ends: Vec::new(), positions: Vec::new() }
    }

    /// The positions of `keys` in sign-text order.
    pub(crate) fn sort<'k>(&mut self, keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> &[u32] {
        let same = keys.len() == self.ends.len()
            && keys
                .clone()
                .zip(&self.ends)
                .scan(0, |start, (k, &end)| {
                    let last = &self.keys[*start..end];
                    *start = end;
                    Some(k == last)
                })
                .all(|same| same);
        if !same {
            let list: Vec<&str> = keys.clone().collect();
            self.positions = sorted_positions(&list, self.order);
            self.keys.clear();
            self.ends.clear();
            for k in keys {
                self.keys.push_str(k);
                self.ends.push(self.keys.len());
            }
        }
        &self.positions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_java_order_on_every_path() {
        let keys = ["b", "B", "_", "a", "\u{FF01}", "\u{1F600}", "medListCodg", "medListCodgX"];
        for order in [KeyOrder::Ordinal, KeyOrder::CaseInsensitive] {
            let got: Vec<&str> = sorted_positions(&keys, order).iter().map(|&i| keys[i as usize]).collect();
            let mut want = keys.to_vec();
            want.sort_by(|a, b| order.compare(a, b));
            assert_eq!(got, want, "{order:?}");
        }
        // ASCII keys take the prefix path; the result is the same order.
        let ascii = ["feeType", "feedetailList", "Z", "a1", "a"];
        let got: Vec<&str> = sorted_positions(&ascii, KeyOrder::Ordinal).iter().map(|&i| ascii[i as usize]).collect();
        assert_eq!(got, ["Z", "a", "a1", "feeType", "feedetailList"]);
    }
}
