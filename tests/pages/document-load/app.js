document.getElementById('out').textContent = 'app.js ran';
