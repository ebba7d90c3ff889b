// The page's own script, which must run whatever becomes of the agent.
document.documentElement.dataset.pageScript = 'ran';
