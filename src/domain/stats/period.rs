//! Periods: how days are grouped, and which rollup reads which days.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Grain {
    pub const ALL: [Grain; 5] = [Grain::Day, Grain::Week, Grain::Month, Grain::Quarter, Grain::Year];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Grain> {
        Grain::ALL.into_iter().find(|g| g.name() == text)
    }

    /// Whether whole months can be read from the monthly rollups.
    pub fn spans_months(self) -> bool {
        matches!(self, Grain::Month | Grain::Quarter | Grain::Year)
    }

    /// The period a day belongs to: `2026-11-23`, `2026-W48` (ISO week),
    /// `2026-11`, `2026-Q4`, `2026`. Labels of one grain sort in time order.
    pub fn label(self, day: NaiveDate) -> String {
        match self {
            Grain::Day => day.format("%Y-%m-%d").to_string(),
            Grain::Week => {
                let week = day.iso_week();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Grain::Month => day.format("%Y-%m").to_string(),
            Grain::Quarter => format!("{:04}-Q{}", day.year(), day.month0() / 3 + 1),
            Grain::Year => format!("{:04}", day.year()),
        }
    }
}

/// A run of days read from one rollup: by month (`first` and `last` are
/// then month starts) or by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub by_month: bool,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn is_month_end(day: NaiveDate) -> bool {
    day.succ_opt().is_none_or(|next| next.day() == 1)
}

/// Splits the days `from..=to` between the rollups: whole months by month
/// (when `months_allowed`), the ragged ends by day. A year asks for twelve
/// monthly buckets, not 365 daily ones.
pub fn segments(from: NaiveDate, to: NaiveDate, months_allowed: bool) -> Vec<Segment> {
    if from > to {
        return Vec::new();
    }
    let by_day = |first, last| Segment { by_month: false, first, last };
    if !months_allowed {
        return vec![by_day(from, to)];
    }
    let first_whole = if from.day() == 1 { Some(from) } else { month_start(from).checked_add_months(Months::new(1)) };
    let last_whole_end = if is_month_end(to) { Some(to) } else { month_start(to).pred_opt() };
    let (Some(first_whole), Some(last_whole_end)) = (first_whole, last_whole_end) else {
        return vec![by_day(from, to)];
    };
    if first_whole > last_whole_end {
        return vec![by_day(from, to)];
    }
    let mut parts = Vec::new();
    if from < first_whole {
        parts.push(by_day(from, first_whole.pred_opt().unwrap_or(from)));
    }
    parts.push(Segment { by_month: true, first: first_whole, last: month_start(last_whole_end) });
    if last_whole_end < to {
        parts.push(by_day(last_whole_end.succ_opt().unwrap_or(to), to));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn labels_follow_the_calendar_and_iso_weeks() {
        assert_eq!(Grain::Day.label(d(2026, 11, 23)), "2026-11-23");
        assert_eq!(Grain::Week.label(d(2026, 11, 23)), "2026-W48");
        // 1 January 2027 is a Friday: ISO week 53 of 2026.
        assert_eq!(Grain::Week.label(d(2027, 1, 1)), "2026-W53");
        assert_eq!(Grain::Month.label(d(2026, 2, 3)), "2026-02");
        assert_eq!(Grain::Quarter.label(d(2026, 3, 31)), "2026-Q1");
        assert_eq!(Grain::Quarter.label(d(2026, 10, 1)), "2026-Q4");
        assert_eq!(Grain::Year.label(d(2026, 10, 1)), "2026");
    }

    #[test]
    fn whole_months_are_read_by_month_and_ragged_ends_by_day() {
        assert_eq!(
            segments(d(2025, 1, 1), d(2025, 12, 31), true),
            vec![Segment { by_month: true, first: d(2025, 1, 1), last: d(2025, 12, 1) }]
        );
        assert_eq!(
            segments(d(2025, 1, 15), d(2025, 4, 10), true),
            vec![
                Segment { by_month: false, first: d(2025, 1, 15), last: d(2025, 1, 31) },
                Segment { by_month: true, first: d(2025, 2, 1), last: d(2025, 3, 1) },
                Segment { by_month: false, first: d(2025, 4, 1), last: d(2025, 4, 10) },
            ]
        );
        assert_eq!(
            segments(d(2024, 2, 1), d(2024, 2, 29), true),
            vec![Segment { by_month: true, first: d(2024, 2, 1), last: d(2024, 2, 1) }]
        );
    }

    #[test]
    fn short_ranges_and_day_grains_are_read_by_day() {
        assert_eq!(
            segments(d(2025, 1, 2), d(2025, 1, 30), true),
            vec![Segment { by_month: false, first: d(2025, 1, 2), last: d(2025, 1, 30) }]
        );
        assert_eq!(
            segments(d(2025, 1, 1), d(2025, 12, 31), false),
            vec![Segment { by_month: false, first: d(2025, 1, 1), last: d(2025, 12, 31) }]
        );
        assert!(segments(d(2025, 2, 1), d(2025, 1, 1), true).is_empty());
    }

    #[test]
    fn the_widest_range_is_whole_months() {
        let all = segments(d(1, 1, 1), d(9999, 12, 31), true);
        assert_eq!(all.len(), 1);
        assert!(all[0].by_month);
    }
}
