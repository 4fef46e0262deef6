//! Finding what users name in the store: a project by name, a project's plan by (part
//! of) its path, a task by the plan's id for it; and where an imported file goes. Lookups
//! that find nothing, or more than one thing, say what there is to choose from.

use std::path::Path;

use anyhow::{Context, Result, bail};
use taskman_core::Plan;
use taskman_markdown::Document;
use taskman_store::{
    PageRequest, PlanInfo, Project, Store, StoreError, SyncReport, TaskFilter, TaskRecord,
};

use super::{ImportArgs, actor};

/// Where an imported file goes: its project and its plan name there.
pub(super) struct Target {
    pub(super) project: Project,
    /// The file's canonical path, so the same file is the same plan from any directory.
    name: String,
}

impl Target {
    pub(super) async fn resolve(store: &Store, a: &ImportArgs, doc: &Document) -> Result<Target> {
        let name = std::fs::canonicalize(&a.file)
            .with_context(|| format!("{}: cannot resolve the path", a.file.display()))?
            .to_string_lossy()
            .into_owned();
        let project = match &a.project {
            Some(p) => ensure_project(store, p).await?,
            None => match project_holding(store, &name).await? {
                Some(p) => p,
                None => ensure_project(store, &default_project_name(&doc.plan, &a.file)).await?,
            },
        };
        Ok(Target { project, name })
    }

    pub(super) async fn import(&self, store: &Store, doc: &Document) -> Result<SyncReport> {
        store
            .import_parsed(
                &actor(),
                self.project.id,
                &self.name,
                doc.bytes.clone(),
                doc.plan.clone(),
            )
            .await
            .with_context(|| {
                format!(
                    "{}: import into project \"{}\"",
                    self.name, self.project.name
                )
            })
    }
}

fn default_project_name(plan: &Plan, file: &Path) -> String {
    plan.title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "plans".into())
}

/// The project that already holds a plan of this name, so re-importing a file whose
/// title changed still syncs it rather than starting a second project.
async fn project_holding(store: &Store, plan_name: &str) -> Result<Option<Project>> {
    for p in store.list_projects().await.context("listing projects")? {
        let plans = store
            .list_plans(p.id)
            .await
            .with_context(|| format!("plans of project \"{}\"", p.name))?;
        if plans.iter().any(|x| x.name == plan_name) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

async fn ensure_project(store: &Store, name: &str) -> Result<Project> {
    match store.project_by_name(name).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound { .. }) => match store.create_project(&actor(), name, "").await {
            Ok(p) => Ok(p),
            // Another process created it in between: use theirs.
            Err(StoreError::AlreadyExists(_)) => store
                .project_by_name(name)
                .await
                .with_context(|| format!("project \"{name}\"")),
            Err(e) => Err(e).with_context(|| format!("cannot create project \"{name}\"")),
        },
        Err(e) => Err(e).with_context(|| format!("project \"{name}\"")),
    }
}

pub(super) async fn find_project(store: &Store, name: &str) -> Result<Project> {
    match store.project_by_name(name).await {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound { .. }) => {
            bail!("no project named \"{name}\"; `taskman projects` lists them")
        }
        Err(e) => Err(e).with_context(|| format!("project \"{name}\"")),
    }
}

/// The project's plan named by `wanted` (its name, the end of it, or a path to the file),
/// or its only plan.
pub(super) async fn choose_plan(
    store: &Store,
    project: &Project,
    wanted: Option<&str>,
) -> Result<PlanInfo> {
    let plans = store
        .list_plans(project.id)
        .await
        .with_context(|| format!("plans of project \"{}\"", project.name))?;
    let names = || {
        plans
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return match plans.as_slice() {
            [only] => Ok(only.clone()),
            [] => bail!(
                "project \"{}\" has no plans yet; `taskman import FILE --project \"{}\"` adds one",
                project.name,
                project.name
            ),
            _ => bail!(
                "project \"{}\" has {} plans; choose one with --plan: {}",
                project.name,
                plans.len(),
                names()
            ),
        };
    };
    let canonical = std::fs::canonicalize(wanted)
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    let hits: Vec<&PlanInfo> = plans
        .iter()
        .filter(|p| {
            p.name == wanted
                || canonical.as_deref() == Some(p.name.as_str())
                || Path::new(&p.name).ends_with(wanted)
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!(
            "project \"{}\" has no plan \"{wanted}\"; its plans: {}",
            project.name,
            if plans.is_empty() {
                "none".into()
            } else {
                names()
            }
        ),
        _ => bail!(
            "\"{wanted}\" matches {} plans of project \"{}\": {}; give more of the path",
            hits.len(),
            project.name,
            hits.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Largest page asked of the store; every listing reads all pages.
pub(super) const PAGE: u32 = 500;

pub(super) async fn all_tasks(store: &Store, filter: &TaskFilter) -> Result<Vec<TaskRecord>> {
    let mut tasks = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: PAGE,
    };
    loop {
        let p = store
            .list_tasks(filter, page)
            .await
            .context("listing tasks")?;
        tasks.extend(p.items);
        match p.next {
            Some(n) if page.after != Some(n) => page.after = Some(n),
            _ => break,
        }
    }
    Ok(tasks)
}

pub(super) async fn find_task(
    store: &Store,
    project: &Project,
    plan_id: Option<i64>,
    id: &str,
) -> Result<TaskRecord> {
    let tasks = all_tasks(
        store,
        &TaskFilter {
            project_id: Some(project.id),
            plan_id,
            ..TaskFilter::default()
        },
    )
    .await?;
    pick_task(&tasks, project, plan_id, id).cloned()
}

/// The task whose id (as the plan writes it; case, spaces and hyphens aside) is `id`.
pub(super) fn pick_task<'a>(
    tasks: &'a [TaskRecord],
    project: &Project,
    plan_id: Option<i64>,
    id: &str,
) -> Result<&'a TaskRecord> {
    let want = taskman_core::ids::normalize(id);
    let hits: Vec<&TaskRecord> = tasks
        .iter()
        .filter(|t| plan_id.is_none() || t.plan_id == plan_id)
        .filter(|t| taskman_core::ids::normalize(&t.key) == want)
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => bail!("project \"{}\" has no task with id \"{id}\"", project.name),
        _ => bail!(
            "task id \"{id}\" is used in {} plans of project \"{}\"; choose one with --plan",
            hits.len(),
            project.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_without_title_is_filed_under_its_file_name() {
        let plan = taskman_markdown::parse(b"- [ ] a\n").plan;
        assert_eq!(
            default_project_name(&plan, Path::new("x/road-map.md")),
            "road-map"
        );
        let plan = taskman_markdown::parse(b"# Road map\n- [ ] a\n").plan;
        assert_eq!(default_project_name(&plan, Path::new("x/y.md")), "Road map");
    }
}
