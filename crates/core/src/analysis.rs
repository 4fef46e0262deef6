//! Dependency resolution, progress, ready and blocked work, cycles.
//!
//! [`Analysis::new`] resolves every dependency of a plan once (ids, `All previous tasks`,
//! section dependencies, and what a subtask inherits from its parents); the queries read
//! the resolved graph.

use serde::Serialize;

use crate::{DepRef, Plan, Priority, Status, TaskKind};

/// A plan with its dependencies resolved.
#[derive(Debug, Clone)]
pub struct Analysis<'a> {
    pub plan: &'a Plan,
    /// Each task's own dependencies as written (ids and `All previous`), without the
    /// section rules.
    pub own: Vec<Vec<usize>>,
    /// Direct dependencies of each task as written (ids, `All previous`, section rules).
    pub direct: Vec<Vec<usize>>,
    /// Direct dependencies plus those inherited from parent tasks: a subtask cannot start
    /// before its parent could.
    pub effective: Vec<Vec<usize>>,
    /// References that name no task: (task, the reference as written).
    pub unknown: Vec<(usize, String)>,
    /// Each cycle as a closed walk of task indices (first = last omitted).
    pub cycles: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub in_progress: usize,
    pub cancelled: usize,
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionProgress {
    pub section: usize,
    pub title: String,
    pub level: u8,
    pub line: u32,
    pub total: usize,
    pub done: usize,
    pub in_progress: usize,
    pub percent: f64,
}

/// A task that waits, and what it waits on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocked {
    pub task: usize,
    /// Open tasks it depends on (directly or through its parents).
    pub blocked_by: Vec<usize>,
}

/// Percent with one decimal, 0 for an empty scope.
pub fn percent(done: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (done as f64 * 1000.0 / total as f64).round() / 10.0
}

impl<'a> Analysis<'a> {
    pub fn new(plan: &'a Plan) -> Analysis<'a> {
        let n = plan.tasks.len();
        let mut direct: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut unknown = Vec::new();
        let index = IdIndex::new(plan);

        for (i, task) in plan.tasks.iter().enumerate() {
            for dep in &task.depends_on {
                match dep {
                    DepRef::Id(id) => match index.get(id) {
                        Some(j) if j != i => direct[i].push(j),
                        Some(_) => {}
                        None => unknown.push((i, id.clone())),
                    },
                    DepRef::AllPrevious => {
                        direct[i].extend(previous_peers(plan, i));
                    }
                }
            }
        }
        let own: Vec<Vec<usize>> = direct
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        for sd in &plan.section_deps {
            let prereq: Vec<usize> = plan.tasks_in_section(sd.prerequisite).collect();
            for t in plan.tasks_in_section(sd.dependent) {
                direct[t].extend(prereq.iter().copied().filter(|&p| p != t));
            }
        }
        for d in &mut direct {
            d.sort_unstable();
            d.dedup();
        }

        let mut effective = direct.clone();
        #[allow(clippy::needless_range_loop)] // `i` indexes `direct` and `effective` alike
        for i in 0..n {
            let mut p = plan.tasks[i].parent;
            while let Some(pi) = p {
                effective[i].extend(direct[pi].iter().copied().filter(|&d| d != i));
                p = plan.tasks[pi].parent;
            }
            effective[i].sort_unstable();
            effective[i].dedup();
        }

        let cycles = find_cycles(&direct);
        Analysis {
            plan,
            own,
            direct,
            effective,
            unknown,
            cycles,
        }
    }

    fn status(&self, i: usize) -> Status {
        self.plan.tasks[i].status
    }

    /// Progress of a set of tasks.
    pub fn progress_of(&self, tasks: impl Iterator<Item = usize>) -> Progress {
        let (mut total, mut done, mut in_progress, mut cancelled) = (0, 0, 0, 0);
        for i in tasks {
            total += 1;
            match self.status(i) {
                Status::Done => done += 1,
                Status::InProgress => in_progress += 1,
                Status::Cancelled => cancelled += 1,
                _ => {}
            }
        }
        Progress {
            total,
            done,
            in_progress,
            cancelled,
            percent: percent(done, total),
        }
    }

    /// Progress of the whole plan: every task at every depth, heading tasks included.
    pub fn progress(&self) -> Progress {
        self.progress_of(0..self.plan.tasks.len())
    }

    /// Progress of every section that holds at least one task, in document order.
    pub fn section_progress(&self) -> Vec<SectionProgress> {
        let plan = self.plan;
        // One pass: attribute each task to its section and all ancestors.
        let ns = plan.sections.len();
        let mut counts = vec![(0usize, 0usize, 0usize); ns];
        for t in &plan.tasks {
            let mut s = t.section;
            while let Some(si) = s {
                counts[si].0 += 1;
                if t.status == Status::Done {
                    counts[si].1 += 1;
                }
                if t.status == Status::InProgress {
                    counts[si].2 += 1;
                }
                s = plan.sections[si].parent;
            }
        }
        plan.sections
            .iter()
            .enumerate()
            .filter(|(i, _)| counts[*i].0 > 0)
            .map(|(i, s)| SectionProgress {
                section: i,
                title: s.title.clone(),
                level: s.level,
                line: s.line,
                total: counts[i].0,
                done: counts[i].1,
                in_progress: counts[i].2,
                percent: percent(counts[i].1, counts[i].0),
            })
            .collect()
    }

    /// Open dependencies of task `i` (through its parents too).
    pub fn open_deps(&self, i: usize) -> Vec<usize> {
        self.effective[i]
            .iter()
            .copied()
            .filter(|&d| !self.status(d).is_closed())
            .collect()
    }

    /// Priority of the task or, failing that, of its nearest parent that has one.
    pub fn effective_priority(&self, i: usize) -> Option<Priority> {
        let mut cur = Some(i);
        while let Some(c) = cur {
            if let Some(p) = self.plan.tasks[c].priority {
                return Some(p);
            }
            cur = self.plan.tasks[c].parent;
        }
        None
    }

    /// Work that can start now: open, not deferred or declared blocked, every dependency
    /// closed. In progress first, then by priority (none last), then document order.
    pub fn ready(&self) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.plan.tasks.len())
            .filter(|&i| matches!(self.status(i), Status::Todo | Status::InProgress))
            .filter(|&i| self.open_deps(i).is_empty())
            .collect();
        out.sort_by_key(|&i| {
            let st = self.status(i) != Status::InProgress;
            let pr = self.effective_priority(i).map_or(4, |p| p as u8);
            (st, pr, i)
        });
        out
    }

    /// Open work that waits: on open dependencies, or declared blocked by the document.
    pub fn blocked(&self) -> Vec<Blocked> {
        (0..self.plan.tasks.len())
            .filter(|&i| !self.status(i).is_closed() && self.status(i) != Status::Deferred)
            .filter_map(|i| {
                let by = self.open_deps(i);
                (!by.is_empty() || self.status(i) == Status::Blocked).then_some(Blocked {
                    task: i,
                    blocked_by: by,
                })
            })
            .collect()
    }
}

/// Earlier tasks at the same level as task `i`: same parent, same kind, same depth.
pub(crate) fn previous_peers(plan: &Plan, i: usize) -> impl Iterator<Item = usize> + '_ {
    let t = &plan.tasks[i];
    plan.tasks[..i]
        .iter()
        .enumerate()
        .filter(move |(_, p)| {
            p.parent == t.parent
                && p.kind == t.kind
                && p.depth == t.depth
                && (t.kind == TaskKind::Heading || p.section == t.section)
                && p.mirror_of.is_none()
        })
        .map(|(j, _)| j)
}

/// Lookup of tasks by id, preferring tasks that define the id over mirrors of it.
struct IdIndex(std::collections::HashMap<String, usize>);

impl IdIndex {
    fn new(plan: &Plan) -> IdIndex {
        let mut map = std::collections::HashMap::with_capacity(plan.tasks.len());
        for (i, t) in plan.tasks.iter().enumerate() {
            map.entry(crate::ids::normalize(&t.id)).or_insert(i);
        }
        IdIndex(map)
    }

    fn get(&self, id: &str) -> Option<usize> {
        self.0.get(&crate::ids::normalize(id)).copied()
    }
}

/// Cycles in the dependency graph, one per strongly connected component with more than
/// one task, each as a concrete walk `a -> b -> ... -> a` (Tarjan, iterative).
fn find_cycles(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut sccs: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            if *ei < adj[v].len() {
                let w = adj[v][*ei];
                *ei += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(u, _)) = work.last() {
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > 1 {
                        comp.sort_unstable();
                        sccs.push(comp);
                    }
                }
            }
        }
    }
    sccs.sort();
    sccs.into_iter().map(|c| walk_cycle(adj, &c)).collect()
}

/// A concrete cycle through the first task of a strongly connected component.
fn walk_cycle(adj: &[Vec<usize>], comp: &[usize]) -> Vec<usize> {
    let start = comp[0];
    let inside = |x: usize| comp.binary_search(&x).is_ok();
    // Breadth-first search for the shortest way back to `start`.
    let mut prev: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if !inside(w) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                let mut cur = v;
                while cur != start {
                    cur = prev[&cur];
                    path.push(cur);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    comp.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Task, plan::Section};

    fn task(id: &str, status: Status, deps: &[&str]) -> Task {
        crate::plan::test_task(id, status, deps)
    }

    fn plan(tasks: Vec<Task>) -> Plan {
        Plan {
            tasks,
            ..Plan::default()
        }
    }

    #[test]
    fn task_waiting_on_an_open_dependency_is_blocked_not_ready() {
        let p = plan(vec![
            task("A", Status::Done, &[]),
            task("B", Status::InProgress, &["A"]),
            task("C", Status::Todo, &["B"]),
        ]);
        let a = Analysis::new(&p);
        assert_eq!(a.ready(), vec![1]);
        assert_eq!(
            a.blocked(),
            vec![Blocked {
                task: 2,
                blocked_by: vec![1]
            }]
        );
    }

    #[test]
    fn ready_lists_in_progress_first_then_priority_then_document_order() {
        let mut low = task("L", Status::Todo, &[]);
        low.priority = Some(Priority::Low);
        let mut crit = task("C", Status::Todo, &[]);
        crit.priority = Some(Priority::Critical);
        let none = task("N", Status::Todo, &[]);
        let wip = task("W", Status::InProgress, &[]);
        let p = plan(vec![none, low, crit, wip]);
        assert_eq!(Analysis::new(&p).ready(), vec![3, 2, 1, 0]);
    }

    #[test]
    fn cycle_is_found_and_named_as_a_walk() {
        let p = plan(vec![
            task("A", Status::Todo, &["C"]),
            task("B", Status::Todo, &["A"]),
            task("C", Status::Todo, &["B"]),
            task("D", Status::Todo, &[]),
        ]);
        let a = Analysis::new(&p);
        assert_eq!(a.cycles, vec![vec![0, 2, 1]]);
    }

    #[test]
    fn all_previous_means_earlier_tasks_at_the_same_level() {
        let mut p = plan(vec![
            task("A", Status::Done, &[]),
            task("B", Status::Todo, &[]),
            task("C", Status::Todo, &[]),
        ]);
        p.tasks[2].depends_on = vec![DepRef::AllPrevious];
        let mut child = task("B.1", Status::Todo, &[]);
        child.parent = Some(1);
        child.depth = 1;
        p.tasks.insert(2, child);
        p.tasks[3].depends_on = vec![DepRef::AllPrevious];
        let a = Analysis::new(&p);
        assert_eq!(a.direct[3], vec![0, 1]);
    }

    #[test]
    fn subtask_inherits_its_parents_dependencies() {
        let mut p = plan(vec![
            task("A", Status::Todo, &[]),
            task("B", Status::Todo, &["A"]),
        ]);
        let mut child = task("B.1", Status::Todo, &[]);
        child.parent = Some(1);
        p.tasks.push(child);
        let a = Analysis::new(&p);
        assert_eq!(a.open_deps(2), vec![0]);
        assert!(!a.ready().contains(&2));
    }

    #[test]
    fn unknown_reference_is_reported_not_dropped() {
        let p = plan(vec![task("A", Status::Todo, &["Z-9"])]);
        let a = Analysis::new(&p);
        assert_eq!(a.unknown, vec![(0, "Z-9".to_string())]);
    }

    #[test]
    fn section_progress_counts_every_task_at_every_depth() {
        let mut p = plan(vec![
            task("A", Status::Done, &[]),
            task("B", Status::Todo, &[]),
            task("C", Status::Done, &[]),
        ]);
        p.sections = vec![
            Section {
                title: "Phase".into(),
                level: 2,
                line: 1,
                parent: None,
                task: None,
                declared: None,
            },
            Section {
                title: "Week".into(),
                level: 3,
                line: 2,
                parent: Some(0),
                task: None,
                declared: None,
            },
        ];
        p.tasks[0].section = Some(0);
        p.tasks[1].section = Some(1);
        p.tasks[2].section = Some(1);
        p.tasks[2].parent = Some(1);
        let a = Analysis::new(&p);
        let s = a.section_progress();
        assert_eq!((s[0].total, s[0].done, s[0].percent), (3, 2, 66.7));
        assert_eq!((s[1].total, s[1].done, s[1].percent), (2, 1, 50.0));
    }
}
