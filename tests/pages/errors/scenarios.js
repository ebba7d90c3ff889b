// Each scenario makes one kind of error happen for real: thrown from a
// timer or a handler, rejected, or a resource that cannot load.
class PaymentError extends Error {}

function timeoutThrower() {
  throw new TypeError('timeout boom');
}

function burstThrower() {
  throw new Error('burst');
}

document.getElementById('throw').addEventListener('click', function clickThrower() {
  throw new RangeError('click boom');
});

window.scenarios = {
  timeout: () => setTimeout(timeoutThrower),
  custom: () => setTimeout(() => { throw new PaymentError('card declined'); }),
  thrownString: () => setTimeout(() => { throw 'a thrown string'; }),
  rejectError: () => { Promise.reject(new Error('rejected with an error')); },
  rejectString: () => { Promise.reject('rejected with a string'); },
  burst: () => { for (let i = 0; i < 20; i++) setTimeout(burstThrower, i * 5); },
  brokenImage: () => {
    const img = new Image();
    img.src = 'missing.png';
    document.getElementById('slot').append(img);
  },
  brokenScript: () => {
    const s = document.createElement('script');
    s.src = 'missing.js';
    document.getElementById('slot').append(s);
  },
};
