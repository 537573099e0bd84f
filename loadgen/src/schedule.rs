//! The open-loop schedule: every request's intended send time, operation and key, fixed
//! before the run starts, and the operation mix and key distribution it is drawn from.

use rand::RngExt as _;
use rand::SeedableRng as _;
use rand::rngs::SmallRng;
use rand_distr::Distribution as _;

use crate::error::LoadgenError;
use crate::workload::Op;

/// Maximum requests in one schedule; each costs 16 bytes, so this is 160 MiB.
pub const MAX_SLOTS: u64 = 10_000_000;

/// The arrival process: the spacing of intended send times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly spaced, `1 / rate` apart.
    Constant,
    /// A Poisson process: exponentially distributed gaps with mean `1 / rate`.
    Poisson,
}

/// The operation mix, such as `get=90,put=10`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mix {
    /// Operations with their integer weights, in `Op::ALL` order.
    pub weights: Vec<(Op, u32)>,
}

impl Mix {
    /// Parses `OP=WEIGHT[,OP=WEIGHT...]`; weights are relative and need not sum to 100.
    pub fn parse(text: &str) -> Result<Self, LoadgenError> {
        let mut weights: Vec<(Op, u32)> = Vec::new();
        for entry in text.split(',').filter(|entry| !entry.trim().is_empty()) {
            let (name, weight) = entry.split_once('=').unwrap_or((entry, "1"));
            let op = Op::parse(name.trim()).ok_or_else(|| {
                LoadgenError::invalid(
                    "--mix",
                    format!(
                        "unknown operation {name:?}; use get, put, head, list, delete or multipart"
                    ),
                )
            })?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                LoadgenError::invalid(
                    "--mix",
                    format!("weight {weight:?} of {name} is not a whole number"),
                )
            })?;
            if weights.iter().any(|(existing, _)| *existing == op) {
                return Err(LoadgenError::invalid(
                    "--mix",
                    format!("{name} appears twice"),
                ));
            }
            if weight > 0 {
                weights.push((op, weight));
            }
        }
        if weights.is_empty() {
            return Err(LoadgenError::invalid(
                "--mix",
                "no operation has a weight above 0",
            ));
        }
        weights.sort_by_key(|(op, _)| *op);
        Ok(Self { weights })
    }

    fn total(&self) -> u32 {
        self.weights.iter().map(|(_, weight)| weight).sum()
    }

    /// Returns whether the mix contains `op`.
    pub fn contains(&self, op: Op) -> bool {
        self.weights.iter().any(|(existing, _)| *existing == op)
    }

    /// Returns the share of `op` in the mix, between 0 and 1.
    pub fn share(&self, op: Op) -> f64 {
        let weight = self
            .weights
            .iter()
            .find(|(existing, _)| *existing == op)
            .map_or(0, |(_, weight)| *weight);
        f64::from(weight) / f64::from(self.total())
    }
}

/// The key popularity distribution of GET, HEAD and PUT over the prepared keys.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "exponent")]
pub enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Zipf's law with this exponent: key `k` (from 1) has weight `1 / k^s`.
    Zipf(f64),
}

impl KeyDistribution {
    /// Parses `uniform`, `zipf` (exponent 1) or `zipf:S`.
    pub fn parse(text: &str) -> Result<Self, LoadgenError> {
        match text.split_once(':') {
            None if text == "uniform" => Ok(Self::Uniform),
            None if text == "zipf" => Ok(Self::Zipf(1.0)),
            Some(("zipf", exponent)) => exponent
                .parse::<f64>()
                .ok()
                .filter(|exponent| exponent.is_finite() && *exponent >= 0.0)
                .map(Self::Zipf)
                .ok_or_else(|| {
                    LoadgenError::invalid(
                        "--key-dist",
                        format!("zipf exponent {exponent:?} must be a number >= 0"),
                    )
                }),
            _ => Err(LoadgenError::invalid(
                "--key-dist",
                format!("{text:?} must be uniform, zipf or zipf:EXPONENT"),
            )),
        }
    }
}

/// Draws operations and keys for requests, from a seeded generator.
pub struct OpPicker {
    mix: Mix,
    total: u32,
    keys: u32,
    zipf: Option<rand_distr::Zipf<f64>>,
    rng: SmallRng,
    deletes: u32,
    multiparts: u32,
    delete_keys: u32,
}

impl OpPicker {
    /// Creates a picker over `keys` prepared keys (at least 1) and `delete_keys` objects made
    /// for DELETE; DELETE and multipart keys are taken in turn and wrap around.
    pub fn new(
        mix: &Mix,
        keys: u32,
        delete_keys: u32,
        distribution: KeyDistribution,
        seed: u64,
    ) -> Result<Self, LoadgenError> {
        let zipf = match distribution {
            KeyDistribution::Uniform => None,
            KeyDistribution::Zipf(exponent) => Some(
                rand_distr::Zipf::new(f64::from(keys.max(1)), exponent)
                    .map_err(|error| LoadgenError::invalid("--key-dist", error.to_string()))?,
            ),
        };
        Ok(Self {
            mix: mix.clone(),
            total: mix.total(),
            keys: keys.max(1),
            zipf,
            rng: SmallRng::seed_from_u64(seed),
            deletes: 0,
            multiparts: 0,
            delete_keys: delete_keys.max(1),
        })
    }

    /// Returns the next operation and its key index.
    pub fn pick(&mut self) -> (Op, u32) {
        let mut ticket = self.rng.random_range(0..self.total);
        let mut op = self.mix.weights[0].0;
        for (candidate, weight) in &self.mix.weights {
            if ticket < *weight {
                op = *candidate;
                break;
            }
            ticket -= weight;
        }
        let key = match op {
            Op::Delete => {
                let key = self.deletes % self.delete_keys;
                self.deletes = self.deletes.wrapping_add(1);
                key
            }
            Op::Multipart => {
                let key = self.multiparts;
                self.multiparts = self.multiparts.wrapping_add(1);
                key
            }
            _ => match &self.zipf {
                None => self.rng.random_range(0..self.keys),
                // Zipf samples ranks 1..=n as floats; rank 1 is the most popular key.
                Some(zipf) => (zipf.sample(&mut self.rng) as u32).clamp(1, self.keys) - 1,
            },
        };
        (op, key)
    }
}

/// One scheduled request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    /// Intended send time in nanoseconds after the start of the run.
    pub offset_ns: u64,
    /// Operation.
    pub op: Op,
    /// Key index of the operation's kind.
    pub key: u32,
}

/// Every request of an open-loop run, in send order.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The requests.
    pub slots: Vec<Slot>,
}

impl Schedule {
    /// Returns how many requests a run at `rate` per second for `duration_s` seconds holds,
    /// rejecting runs above [`MAX_SLOTS`] before anything is allocated.
    pub fn slot_count(rate: f64, duration_s: f64) -> Result<u64, LoadgenError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(LoadgenError::invalid(
                "--rate",
                format!("{rate} must be above 0"),
            ));
        }
        let count = (rate * duration_s).floor();
        if count > MAX_SLOTS as f64 {
            return Err(LoadgenError::invalid(
                "--rate",
                format!(
                    "{rate}/s for {duration_s} s is {count} requests, above the limit of {MAX_SLOTS}; \
                     shorten --duration"
                ),
            ));
        }
        Ok(count as u64)
    }

    /// Builds the schedule of a run at `rate` requests per second for `duration_s` seconds.
    pub fn build(
        rate: f64,
        duration_s: f64,
        arrival: Arrival,
        picker: &mut OpPicker,
        seed: u64,
    ) -> Result<Self, LoadgenError> {
        let count = Self::slot_count(rate, duration_s)?;
        let mut slots = Vec::with_capacity(count as usize);
        let interval_ns = 1e9 / rate;
        let mut gaps = SmallRng::seed_from_u64(seed ^ 0x5eed_0fa5);
        let exponential = rand_distr::Exp::new(rate)
            .map_err(|error| LoadgenError::invalid("--rate", error.to_string()))?;
        let mut poisson_time_s = 0.0_f64;
        let end_ns = duration_s * 1e9;
        for index in 0..count {
            let offset_ns = match arrival {
                Arrival::Constant => (index as f64 * interval_ns) as u64,
                Arrival::Poisson => {
                    poisson_time_s += exponential.sample(&mut gaps);
                    let offset = poisson_time_s * 1e9;
                    if offset >= end_ns {
                        break;
                    }
                    offset as u64
                }
            };
            let (op, key) = picker.pick();
            slots.push(Slot { offset_ns, op, key });
        }
        Ok(Self { slots })
    }

    /// Returns how many requests of `op` the schedule holds.
    pub fn count(&self, op: Op) -> u64 {
        self.slots.iter().filter(|slot| slot.op == op).count() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picker(mix: &str) -> OpPicker {
        let mix = Mix::parse(mix).expect("valid mix");
        OpPicker::new(&mix, 100, 10, KeyDistribution::Uniform, 7).expect("valid picker")
    }

    #[test]
    fn mix_parses_weights() {
        let mix = Mix::parse("get=90,put=10").expect("valid mix");
        assert_eq!(mix.weights, vec![(Op::Get, 90), (Op::Put, 10)]);
    }

    #[test]
    fn mix_rejects_unknown_op() {
        assert!(Mix::parse("get=90,copy=10").is_err());
    }

    #[test]
    fn mix_rejects_all_zero() {
        assert!(Mix::parse("get=0").is_err());
    }

    #[test]
    fn mix_ratio_is_respected() {
        let mut picker = picker("get=90,put=10");
        let puts = (0..100_000).filter(|_| picker.pick().0 == Op::Put).count();
        assert!((9_000..11_000).contains(&puts), "{puts} PUTs of 100000");
    }

    #[test]
    fn constant_schedule_evenly_spaced() {
        let schedule = Schedule::build(1000.0, 1.0, Arrival::Constant, &mut picker("get"), 1)
            .expect("valid schedule");
        assert_eq!(schedule.slots.len(), 1000);
        assert_eq!(schedule.slots[1].offset_ns, 1_000_000);
        assert_eq!(schedule.slots[999].offset_ns, 999_000_000);
    }

    #[test]
    fn poisson_schedule_mean_rate() {
        let schedule = Schedule::build(10_000.0, 2.0, Arrival::Poisson, &mut picker("get"), 1)
            .expect("valid schedule");
        let count = schedule.slots.len();
        assert!(
            (19_000..21_000).contains(&count),
            "{count} arrivals in 2 s at 10000/s"
        );
        assert!(
            schedule
                .slots
                .windows(2)
                .all(|pair| pair[0].offset_ns <= pair[1].offset_ns)
        );
    }

    #[test]
    fn oversized_schedule_rejected() {
        assert!(Schedule::slot_count(1e9, 3600.0).is_err());
    }

    #[test]
    fn zipf_prefers_first_key() {
        let mix = Mix::parse("get").expect("valid mix");
        let mut picker =
            OpPicker::new(&mix, 1000, 1, KeyDistribution::Zipf(1.2), 3).expect("valid picker");
        let first = (0..10_000).filter(|_| picker.pick().1 == 0).count();
        assert!(first > 1_000, "key 0 drawn {first} times of 10000");
    }

    #[test]
    fn delete_keys_taken_in_turn() {
        let mut picker = picker("delete");
        let keys: Vec<u32> = (0..12).map(|_| picker.pick().1).collect();
        assert_eq!(keys, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    }
}
