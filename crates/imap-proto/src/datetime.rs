//! IMAP dates (`1-Feb-1994`) and date-times (`"17-Jul-1996 02:44:25 -0700"`), RFC 3501 9.

use std::fmt;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date as used by SEARCH (no time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
}

/// A date and time with the zone offset it was given in (INTERNALDATE, APPEND).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset east of UTC in minutes (`-0700` is -420).
    pub offset_minutes: i16,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 => {
            let y = year as u32;
            if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `date-day "-" date-month "-" date-year` (day may be one digit).
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.split('-');
        let day = parts.next()?;
        let month = parts.next()?;
        let year = parts.next()?;
        if parts.next().is_some() || day.is_empty() || day.len() > 2 || year.len() != 4 {
            return None;
        }
        if !day.bytes().all(|b| b.is_ascii_digit()) || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u8 + 1;
        Date::new(year.parse().ok()?, month, day.parse().ok()?)
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(&self) -> i64 {
        days_from_civil(self.year as i64, self.month as i64, self.day as i64)
    }

    /// Unix time of this date's midnight UTC.
    pub fn to_unix(&self) -> i64 {
        self.days_since_epoch() * 86_400
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = MONTHS
            .get((self.month as usize).wrapping_sub(1))
            .copied()
            .unwrap_or("Jan");
        write!(f, "{}-{}-{:04}", self.day, m, self.year)
    }
}

impl DateTime {
    /// Parses the contents of a `date-time` (without the quotes). The day may be
    /// space-padded (`" 1-Jan-2020 ..."`) or one digit.
    pub fn parse(s: &str) -> Option<DateTime> {
        let s = s.strip_prefix(' ').unwrap_or(s);
        let mut parts = s.split(' ');
        let date = Date::parse(parts.next()?)?;
        let time = parts.next()?;
        let zone = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let t: Vec<&str> = time.split(':').collect();
        if t.len() != 3
            || t.iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let hour: u8 = t[0].parse().ok()?;
        let minute: u8 = t[1].parse().ok()?;
        let second: u8 = t[2].parse().ok()?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let zb = zone.as_bytes();
        if zb.len() != 5
            || !(zb[0] == b'+' || zb[0] == b'-')
            || !zb[1..].iter().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let zh: i16 = zone[1..3].parse().ok()?;
        let zm: i16 = zone[3..5].parse().ok()?;
        if zm > 59 {
            return None;
        }
        let mut offset = zh * 60 + zm;
        if zb[0] == b'-' {
            offset = -offset;
        }
        Some(DateTime {
            date,
            hour,
            minute,
            second,
            offset_minutes: offset,
        })
    }

    /// Seconds since the Unix epoch.
    pub fn to_unix(&self) -> i64 {
        self.date.to_unix() + self.hour as i64 * 3600 + self.minute as i64 * 60 + self.second as i64
            - self.offset_minutes as i64 * 60
    }

    /// The date-time for `unix` seconds, shown in the zone `offset_minutes` east of UTC.
    pub fn from_unix(unix: i64, offset_minutes: i16) -> DateTime {
        let local = unix + offset_minutes as i64 * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        DateTime {
            date: Date {
                year: y.clamp(0, 9999) as u16,
                month: m as u8,
                day: d as u8,
            },
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            offset_minutes,
        }
    }
}

impl fmt::Display for DateTime {
    /// The `date-time` contents without quotes, day padded with a space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = MONTHS
            .get((self.date.month as usize).wrapping_sub(1))
            .copied()
            .unwrap_or("Jan");
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "{:>2}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            self.date.day,
            m,
            self.date.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            off / 60,
            off % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let dt = DateTime::parse("17-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(dt.to_string(), "17-Jul-1996 02:44:25 -0700");
        assert_eq!(dt.to_unix(), 837_596_665);
        assert_eq!(DateTime::from_unix(837_596_665, -420), dt);
        let dt = DateTime::parse(" 1-Feb-1994 21:52:25 +0100").unwrap();
        assert_eq!(dt.to_string(), " 1-Feb-1994 21:52:25 +0100");
        assert_eq!(Date::parse("1-Feb-1994"), Date::new(1994, 2, 1));
        assert_eq!(Date::parse("29-Feb-2001"), None);
        assert_eq!(Date::parse("1-Foo-1994"), None);
        assert_eq!(DateTime::parse("17-Jul-1996 24:44:25 -0700"), None);
    }
}
