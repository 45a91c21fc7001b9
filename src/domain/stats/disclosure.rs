//! Disclosure control for commissioners' tables: small counts could point
//! at a person, so every count from 1 to threshold − 1 is hidden (primary
//! suppression), and so is the next smallest count wherever a total would
//! let a single hidden count be worked out (secondary suppression). Zeros
//! stay visible: they disclose no one.

/// How a subject's counts depend on each other within a row.
pub struct Relations {
    /// Counts hidden together because one gives the other away (the doses
    /// of a table by product are its kits times the product's doses).
    pub linked: &'static [&'static [usize]],
    /// A count that is the sum of others (reports = survived + died + unknown).
    pub sums: &'static [(usize, &'static [usize])],
}

/// Which counts to hide: one flag per count of each row, then of the totals row.
#[derive(Debug, PartialEq, Eq)]
pub struct Hidden {
    pub rows: Vec<Vec<bool>>,
    pub totals: Vec<bool>,
}

/// Hides what must be hidden in a table whose `totals` are the column
/// sums of `rows`.
pub fn suppress(rows: &[Vec<i64>], totals: &[i64], relations: &Relations, threshold: i64) -> Hidden {
    let grid: Vec<&[i64]> = rows.iter().map(Vec::as_slice).chain(std::iter::once(totals)).collect();
    let mut hidden: Vec<Vec<bool>> =
        grid.iter().map(|row| row.iter().map(|v| (1..threshold).contains(v)).collect()).collect();
    let totals_row = rows.len();
    loop {
        let mut changed = false;
        for (values, flags) in grid.iter().zip(hidden.iter_mut()) {
            changed |= hide_within_row(values, flags, relations);
        }
        for column in 0..totals.len() {
            if hidden[totals_row][column] {
                continue;
            }
            let hidden_rows = (0..totals_row).filter(|r| hidden[*r][column]).count();
            if hidden_rows == 1 {
                let next = (0..totals_row)
                    .filter(|r| !hidden[*r][column] && grid[*r][column] != 0)
                    .min_by_key(|r| grid[*r][column]);
                // No other count to hide: the total alone gives the hidden one away.
                hidden[next.unwrap_or(totals_row)][column] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let totals = hidden.pop().unwrap_or_default();
    Hidden { rows: hidden, totals }
}

/// One pass of the rules inside a row; true when it hid something.
fn hide_within_row(values: &[i64], hidden: &mut [bool], relations: &Relations) -> bool {
    let mut changed = false;
    for group in relations.linked {
        if group.iter().any(|i| hidden[*i]) {
            for i in *group {
                changed |= !hidden[*i];
                hidden[*i] = true;
            }
        }
    }
    for (total, members) in relations.sums {
        if hidden[*total] || members.iter().filter(|m| hidden[**m]).count() != 1 {
            continue;
        }
        let next = members.iter().copied().filter(|m| !hidden[*m] && values[*m] != 0).min_by_key(|m| values[*m]);
        hidden[next.unwrap_or(*total)] = true;
        changed = true;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Relations = Relations { linked: &[], sums: &[] };
    // reports, survived, died, unknown
    const OUTCOMES: Relations = Relations { linked: &[], sums: &[(0, &[1, 2, 3])] };

    fn flags(text: &str) -> Vec<bool> {
        text.chars().map(|c| c == 'x').collect()
    }

    #[test]
    fn small_counts_are_hidden_and_zeros_and_large_ones_are_not() {
        let rows = vec![vec![0], vec![1], vec![4], vec![5], vec![40]];
        let hidden = suppress(&rows, &[50], &NONE, 5);
        assert_eq!(hidden.rows.concat(), flags(".xx.."));
        assert_eq!(hidden.totals, flags("."));
    }

    #[test]
    fn a_single_hidden_count_in_a_column_takes_the_next_smallest_with_it() {
        // 3 alone could be worked out as 60 − 7 − 50.
        let rows = vec![vec![3], vec![7], vec![50], vec![0]];
        let hidden = suppress(&rows, &[60], &NONE, 5);
        assert_eq!(hidden.rows.concat(), flags("xx.."));
        assert_eq!(hidden.totals, flags("."));
    }

    #[test]
    fn with_nothing_else_to_hide_the_total_goes() {
        let rows = vec![vec![3], vec![0], vec![0]];
        let hidden = suppress(&rows, &[3], &NONE, 5);
        assert_eq!(hidden.rows.concat(), flags("x.."));
        assert_eq!(hidden.totals, flags("x"));
        let rows = vec![vec![3], vec![0]];
        let hidden = suppress(&rows, &[7], &NONE, 8);
        assert_eq!(hidden.totals, flags("x"));
    }

    #[test]
    fn two_hidden_counts_in_a_column_are_safe_as_they_are() {
        let rows = vec![vec![2], vec![3], vec![50]];
        let hidden = suppress(&rows, &[55], &NONE, 5);
        assert_eq!(hidden.rows.concat(), flags("xx."));
    }

    #[test]
    fn a_row_total_protects_its_parts() {
        // 20 reports: 18 survived, 2 died, 0 unknown. Died alone could be
        // worked out as 20 − 18 − 0, so survived is hidden too.
        let rows = vec![vec![20, 18, 2, 0], vec![30, 30, 0, 0]];
        let hidden = suppress(&rows, &[50, 48, 2, 0], &OUTCOMES, 5);
        assert_eq!(hidden.rows[0], flags(".xx."));
        // The totals row follows the same rule (its 2 deaths are hidden, so
        // are its 48 survivors); with both column totals hidden, the second
        // row can stay as it is.
        assert_eq!(hidden.rows[1], flags("...."));
        assert_eq!(hidden.totals, flags(".xx."));
    }

    #[test]
    fn linked_counts_are_hidden_together() {
        // kits, doses (= kits × 5)
        let linked = Relations { linked: &[&[0, 1]], sums: &[] };
        let rows = vec![vec![2, 10], vec![6, 30], vec![9, 45]];
        let hidden = suppress(&rows, &[17, 85], &linked, 5);
        assert_eq!(hidden.rows, vec![flags("xx"), flags("xx"), flags("..")]);
        assert_eq!(hidden.totals, flags(".."));
    }

    #[test]
    fn the_rules_reach_a_fixed_point_on_every_small_table() {
        // Exhaustive over small two-row tables: no single hidden count is
        // ever left derivable from a visible total.
        for a in 0..7 {
            for b in 0..7 {
                for c in 0..7 {
                    let rows = vec![vec![a + b + c, a, b, c], vec![6, 6, 0, 0]];
                    let totals: Vec<i64> = (0..4).map(|i| rows[0][i] + rows[1][i]).collect();
                    let hidden = suppress(&rows, &totals, &OUTCOMES, 5);
                    let all: Vec<&Vec<bool>> = hidden.rows.iter().chain([&hidden.totals]).collect();
                    for row in &all {
                        if !row[0] {
                            assert_ne!(row[1..].iter().filter(|h| **h).count(), 1, "{rows:?}");
                        }
                    }
                    for column in 0..4 {
                        if !hidden.totals[column] {
                            assert_ne!(hidden.rows.iter().filter(|r| r[column]).count(), 1, "{rows:?}");
                        }
                    }
                }
            }
        }
    }
}
