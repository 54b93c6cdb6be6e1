//! California's 58 counties with their 2020 census populations (`data/california-counties.csv`),
//! from which the generator sizes each county's child-welfare staff.

/// One county of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct CaliforniaCounty {
    /// Its slug, as orb writes it (`los-angeles`).
    pub slug: String,
    /// Its name.
    pub name: String,
    /// orb's region.
    pub region: String,
    /// Residents at the 2020 census.
    pub population: u64,
}

/// The 58 counties, in the table's (alphabetical) order.
pub fn all() -> Vec<CaliforniaCounty> {
    include_str!("../data/california-counties.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            Some(CaliforniaCounty {
                slug: fields.next()?.to_owned(),
                name: fields.next()?.to_owned(),
                region: fields.next()?.to_owned(),
                population: fields.next()?.trim().parse().ok()?,
            })
        })
        .collect()
}

/// orb's size class for a county of `population`.
pub fn size_class(population: u64) -> &'static str {
    match population {
        5_000_000.. => "VERY_LARGE",
        850_000.. => "LARGE",
        100_000.. => "MEDIUM",
        _ => "SMALL",
    }
}

/// The fewest staff a county's child-welfare agency is given (the smallest counties still run
/// a team).
pub const MIN_STAFF: u32 = 12;

/// Staff of a county: its share of the state's `state_staff` by population, at least [`MIN_STAFF`].
pub fn staff(population: u64, state_population: u64, state_staff: u32) -> u32 {
    let share = population as f64 / state_population.max(1) as f64;
    ((share * f64::from(state_staff)).round() as u32).max(MIN_STAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_every_county_once() {
        let counties = all();
        assert_eq!(counties.len(), 58);
        let mut slugs: Vec<&str> = counties.iter().map(|c| c.slug.as_str()).collect();
        slugs.dedup();
        assert_eq!(slugs.len(), 58);
        // The Census Bureau's 2020 count for California, which the 58 counties add up to exactly,
        // and a few counties checked one by one against published 2020 counts.
        let total: u64 = counties.iter().map(|c| c.population).sum();
        assert_eq!(total, 39_538_223);
        let population = |slug: &str| counties.iter().find(|c| c.slug == slug).map(|c| c.population);
        assert_eq!(population("los-angeles"), Some(10_014_009));
        assert_eq!(population("alpine"), Some(1_204));
        assert_eq!(population("shasta"), Some(182_155));
        assert_eq!(population("tehama"), Some(65_829));
        assert_eq!(population("siskiyou"), Some(44_076));
    }

    #[test]
    fn staff_follow_population_with_a_floor() {
        assert_eq!(staff(10_000_000, 40_000_000, 40_000), 10_000);
        assert_eq!(staff(1_204, 40_000_000, 40_000), MIN_STAFF);
        assert_eq!(size_class(10_014_009), "VERY_LARGE");
        assert_eq!(size_class(1_204), "SMALL");
    }
}
