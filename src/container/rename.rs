//! `rename OLD NEW` under the name locks of both names.
//!
//! Both names are locked (in one sorted order, so two renames in opposite
//! directions cannot deadlock): no other dockhand process may create a
//! container called NEW, or change the one called OLD, meanwhile. The
//! engines differ on renaming to the current name (docker refuses, podman
//! says nothing and exits 0): dockhand refuses it on both (exit 2).

use serde::Serialize;

use super::lock_names;
use super::Containers;
use crate::engine::plan::Plan;
use crate::engine::Argv;
use crate::error::{Error, Result};
use crate::input::ContainerRef;

/// What a rename did. As JSON: `{"id", "old", "new"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Renamed {
    /// The container's full id.
    pub id: String,
    /// Its name before.
    pub old: String,
    /// Its name now.
    pub new: String,
}

/// `rename -- ID NEW`. Not retried: a second attempt after a success fails
/// on the name the first one took.
///
/// ```
/// use dockhand::{container::rename_plan, input::ContainerRef};
/// let plan = rename_plan(&ContainerRef::new("web")?, &ContainerRef::new("web-old")?);
/// assert_eq!(plan.args(), ["rename", "--", "web", "web-old"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn rename_plan(target: &ContainerRef, new: &ContainerRef) -> Plan<()> {
    Plan::write(Argv::new("rename").operands([target, new]), |_| Ok(())).no_retry()
}

impl Containers<'_> {
    /// Rename a container, holding the name locks of its current name and
    /// of `new`. NotFound when it does not exist, Conflict when `new` is
    /// taken, InvalidInput when it already has that name.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let done = Engine::detect()?.containers().rename(&ContainerRef::new("web")?, &ContainerRef::new("web-old")?)?;
    /// println!("{} is now {}", done.old, done.new);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn rename(&self, target: &ContainerRef, new: &ContainerRef) -> Result<Renamed> {
        let c = self.inspect_one(target)?;
        if c.name == new.as_str() {
            return Err(Error::invalid_input(format!(
                "container {target} is already named {new}"
            )));
        }
        let old = ContainerRef::new(&c.name)?;
        // A lock on the reference too when it is not the name (an id), so a
        // process that names the container by id is kept out as well.
        let mut names = vec![&old, new];
        if target != &old {
            names.push(target);
        }
        let _locks = lock_names(self.engine, names)?;
        self.engine
            .run(rename_plan(&ContainerRef::new(&c.id)?, new))?;
        Ok(Renamed {
            id: c.id,
            old: c.name,
            new: new.to_string(),
        })
    }
}
