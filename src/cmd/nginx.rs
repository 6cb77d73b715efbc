//! `gen nginx`: the conf.d file for this config.

use crate::config::Config;
use crate::error::{self, Error};
use crate::{cli, nginx};

pub(crate) fn nginx(config: &Config, args: cli::NginxArgs) -> Result<(), Error> {
    let text = nginx::render(
        config,
        &nginx::NginxOptions {
            listen: args.listen,
            server_name: args.server_name,
            cache_dir: args.cache_dir,
            login_rate_per_minute: args.login_rate,
            login_burst: args.login_burst,
            behind: args.behind,
        },
    )
    .map_err(|message| error::ConfigError::Invalid {
        path: config.path.clone(),
        key: "api.listen".into(),
        message,
    })?;
    print!("{text}");
    Ok(())
}
