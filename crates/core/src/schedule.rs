//! Critical path and project duration from effort and dependencies (the critical path
//! method: a forward pass for earliest start and finish, a backward pass for latest, slack
//! is the difference).
//!
//! Only open work is scheduled: done and cancelled tasks are finished and take no time.
//! Tasks without effort count as zero hours and are listed so the reader knows the figure
//! is a lower bound. Tasks on a dependency cycle cannot be ordered and are left out.

use serde::Serialize;

use crate::Analysis;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleEntry {
    pub task: usize,
    pub hours: f64,
    pub earliest_start: f64,
    pub earliest_finish: f64,
    pub latest_start: f64,
    pub latest_finish: f64,
    pub slack: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// The critical path, first task first.
    pub path: Vec<usize>,
    /// Remaining duration along the critical path, using the upper end of effort ranges.
    pub duration_hours: f64,
    /// The same with the lower end of effort ranges.
    pub duration_hours_min: f64,
    /// One entry per scheduled (open, acyclic) task, in document order.
    pub entries: Vec<ScheduleEntry>,
    /// Open tasks with no effort: counted as zero hours.
    pub zero_effort: Vec<usize>,
    /// Open tasks left out because they sit on a dependency cycle.
    pub unscheduled: Vec<usize>,
}

const EPS: f64 = 1e-9;

impl Analysis<'_> {
    pub fn schedule(&self) -> Schedule {
        let plan = self.plan;
        let n = plan.tasks.len();
        let open: Vec<bool> = plan.tasks.iter().map(|t| !t.status.is_closed()).collect();
        let max_h: Vec<f64> = plan
            .tasks
            .iter()
            .map(|t| t.effort.map_or(0.0, |e| e.max_hours))
            .collect();
        let min_h: Vec<f64> = plan
            .tasks
            .iter()
            .map(|t| t.effort.map_or(0.0, |e| e.min_hours))
            .collect();

        // Predecessors among open tasks; Kahn's algorithm gives a topological order and
        // leaves cycle members out.
        let preds: Vec<Vec<usize>> = (0..n)
            .map(|i| {
                if !open[i] {
                    return Vec::new();
                }
                self.effective[i]
                    .iter()
                    .copied()
                    .filter(|&d| open[d])
                    .collect()
            })
            .collect();
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indeg = vec![0usize; n];
        for i in 0..n {
            for &p in &preds[i] {
                succs[p].push(i);
                indeg[i] += 1;
            }
        }
        let mut order = Vec::with_capacity(n);
        let mut queue: std::collections::VecDeque<usize> =
            (0..n).filter(|&i| open[i] && indeg[i] == 0).collect();
        while let Some(v) = queue.pop_front() {
            order.push(v);
            for &w in &succs[v] {
                indeg[w] -= 1;
                if indeg[w] == 0 {
                    queue.push_back(w);
                }
            }
        }
        let mut scheduled = vec![false; n];
        for &v in &order {
            scheduled[v] = true;
        }
        let unscheduled: Vec<usize> = (0..n).filter(|&i| open[i] && !scheduled[i]).collect();

        let (es, ef, chain) = forward(&order, &preds, &scheduled, &max_h);
        let (_, ef_min, _) = forward(&order, &preds, &scheduled, &min_h);
        let duration = order.iter().map(|&v| ef[v]).fold(0.0, f64::max);
        let duration_min = order.iter().map(|&v| ef_min[v]).fold(0.0, f64::max);

        // Backward pass.
        let mut lf = vec![duration; n];
        let mut ls = vec![duration; n];
        for &v in order.iter().rev() {
            let finish = succs[v]
                .iter()
                .filter(|&&w| scheduled[w])
                .map(|&w| ls[w])
                .fold(duration, f64::min);
            lf[v] = finish;
            ls[v] = finish - max_h[v];
        }

        // The path: from the task finishing last (longest chain on ties, then document
        // order), walk back through predecessors whose finish is this task's start.
        let better = |a: usize, b: usize| -> bool {
            // Is `a` a better pick than `b`?
            (ef[a] - ef[b]).abs() > EPS && ef[a] > ef[b]
                || (ef[a] - ef[b]).abs() <= EPS
                    && (chain[a] > chain[b] || chain[a] == chain[b] && a < b)
        };
        let mut path = Vec::new();
        let mut cur = order
            .iter()
            .copied()
            .reduce(|b, a| if better(a, b) { a } else { b });
        while let Some(v) = cur {
            path.push(v);
            cur = preds[v]
                .iter()
                .copied()
                .filter(|&p| scheduled[p] && (ef[p] - es[v]).abs() <= EPS)
                .reduce(|b, a| if better(a, b) { a } else { b });
        }
        path.reverse();

        let entries = (0..n)
            .filter(|&i| scheduled[i])
            .map(|i| ScheduleEntry {
                task: i,
                hours: max_h[i],
                earliest_start: es[i],
                earliest_finish: ef[i],
                latest_start: ls[i],
                latest_finish: lf[i],
                slack: (ls[i] - es[i]).max(0.0),
            })
            .collect();
        let zero_effort = (0..n)
            .filter(|&i| open[i] && plan.tasks[i].effort.is_none())
            .collect();
        Schedule {
            path,
            duration_hours: duration,
            duration_hours_min: duration_min,
            entries,
            zero_effort,
            unscheduled,
        }
    }
}

/// Earliest start and finish, and the length in tasks of the longest critical chain
/// ending at each task (the tie-breaker when durations are equal or unknown).
fn forward(
    order: &[usize],
    preds: &[Vec<usize>],
    scheduled: &[bool],
    hours: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let n = preds.len();
    let mut es = vec![0.0; n];
    let mut ef = vec![0.0; n];
    let mut chain = vec![1usize; n];
    for &v in order {
        let start = preds[v]
            .iter()
            .filter(|&&p| scheduled[p])
            .map(|&p| ef[p])
            .fold(0.0, f64::max);
        es[v] = start;
        ef[v] = start + hours[v];
        chain[v] = 1 + preds[v]
            .iter()
            .filter(|&&p| scheduled[p] && (ef[p] - start).abs() <= EPS)
            .map(|&p| chain[p])
            .max()
            .unwrap_or(0);
    }
    (es, ef, chain)
}

#[cfg(test)]
mod tests {
    use crate::{Analysis, Effort, Plan, Status, Task};

    fn task(id: &str, hours: Option<f64>, deps: &[&str]) -> Task {
        let mut t = crate::plan::test_task(id, Status::Todo, deps);
        t.effort = hours.map(Effort::hours);
        t
    }

    fn ids(p: &Plan, path: &[usize]) -> Vec<String> {
        path.iter().map(|&i| p.tasks[i].id.clone()).collect()
    }

    #[test]
    fn critical_path_follows_the_longest_chain_of_effort() {
        let p = Plan {
            tasks: vec![
                task("A", Some(80.0), &[]),
                task("B", Some(80.0), &[]),
                task("C", Some(60.0), &["A"]),
                task("D", Some(40.0), &["A", "B"]),
                task("E", Some(40.0), &["C", "D"]),
            ],
            ..Plan::default()
        };
        let s = Analysis::new(&p).schedule();
        assert_eq!(ids(&p, &s.path), ["A", "C", "E"]);
        assert_eq!(s.duration_hours, 180.0);
        let d = s.entries.iter().find(|e| e.task == 3).unwrap();
        assert_eq!(
            (d.earliest_start, d.latest_start, d.slack),
            (80.0, 100.0, 20.0)
        );
    }

    #[test]
    fn tasks_without_effort_count_as_zero_and_are_reported() {
        let p = Plan {
            tasks: vec![
                task("A", None, &[]),
                task("B", None, &["A"]),
                task("C", Some(8.0), &[]),
            ],
            ..Plan::default()
        };
        let s = Analysis::new(&p).schedule();
        assert_eq!(s.zero_effort, vec![0, 1]);
        assert_eq!(s.duration_hours, 8.0);
        assert_eq!(ids(&p, &s.path), ["C"]);
    }

    #[test]
    fn with_no_effort_at_all_the_longest_dependency_chain_is_the_path() {
        let p = Plan {
            tasks: vec![
                task("A", None, &[]),
                task("B", None, &["A"]),
                task("C", None, &["B"]),
            ],
            ..Plan::default()
        };
        let s = Analysis::new(&p).schedule();
        assert_eq!(ids(&p, &s.path), ["A", "B", "C"]);
        assert_eq!(s.duration_hours, 0.0);
    }

    #[test]
    fn done_work_takes_no_time_and_effort_ranges_give_both_ends() {
        let mut a = task("A", Some(40.0), &[]);
        a.status = Status::Done;
        let mut b = task("B", None, &["A"]);
        b.effort = Some(Effort {
            min_hours: 4.0,
            max_hours: 6.0,
        });
        let p = Plan {
            tasks: vec![a, b],
            ..Plan::default()
        };
        let s = Analysis::new(&p).schedule();
        assert_eq!(ids(&p, &s.path), ["B"]);
        assert_eq!((s.duration_hours_min, s.duration_hours), (4.0, 6.0));
    }

    #[test]
    fn tasks_on_a_cycle_are_left_unscheduled() {
        let p = Plan {
            tasks: vec![task("A", Some(1.0), &["B"]), task("B", Some(1.0), &["A"])],
            ..Plan::default()
        };
        let s = Analysis::new(&p).schedule();
        assert_eq!(s.unscheduled, vec![0, 1]);
        assert!(s.path.is_empty());
    }
}
