// Stands for an app script the page loads.
