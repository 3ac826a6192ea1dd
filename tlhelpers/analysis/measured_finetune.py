"""Notebook 04's experiments over seeds, summarised (a generated file).

Written by ``python benchmarks/results_page.py`` from ``docs/benchmarks/finetune-*.jsonl``
(``tests/test_results_page.py`` checks that they agree). Keys are "profile, backbone".

>>> sorted(SEEDS)[0].startswith("ci")
True
"""

import json

SEEDS = json.loads(r'''{
 "ci, mobilenet_025": {
  "bn": {
   "10 per class, batch 32": {
    "mean": 0.025,
    "per_seed": [
     0.04,
     0.03,
     0.005
    ],
    "se": 0.0104,
    "verdict": "suggestive"
   },
   "10 per class, batch 8": {
    "mean": 0.03,
    "per_seed": [
     0.045,
     0.005,
     0.04
    ],
    "se": 0.0126,
    "verdict": "suggestive"
   },
   "80 per class, batch 32": {
    "mean": 0.01,
    "per_seed": [
     -0.01,
     0.0,
     0.04
    ],
    "se": 0.0153,
    "verdict": "within seed noise"
   },
   "80 per class, batch 8": {
    "mean": 0.0333,
    "per_seed": [
     0.04,
     0.0,
     0.06
    ],
    "se": 0.0176,
    "verdict": "within seed noise"
   }
  },
  "conditions": {
   "epochs": 15,
   "image_size": 96,
   "test": 1000,
   "train": 800,
   "validation": 200
  },
  "high_lr": {
   "classes_predicted": [
    1,
    1,
    1
   ],
   "last_loss": [
    2.33,
    2.36,
    2.32
   ],
   "val_accuracy": [
    0.1,
    0.1,
    0.1
   ]
  },
  "label": "ci, mobilenet_025",
  "lesson_gaps": [
   0.011,
   0.011,
   0.02
  ],
  "lesson_p": [
   0.3244787802880661,
   0.329137126166139,
   0.08240747932752648
  ],
  "peak_mb": [
   1587,
   2324,
   2990
  ],
  "recipe_gaps": [
   0.048,
   0.036,
   0.046
  ],
  "recipe_p": [
   0.00015042148076348106,
   0.0043709380726187535,
   0.0006052447871282059
  ],
  "seeds": [
   0,
   1,
   2
  ],
  "test": {
   "course's fine-tuning": [
    0.6577,
    0.0049
   ],
   "feature extraction": [
    0.6143,
    0.0019
   ],
   "lesson's fine-tuning": [
    0.6283,
    0.0023
   ]
  },
  "wall_s": [
   119.1,
   110.2,
   115.7
  ]
 },
 "cpu, mobilenet_025": {
  "bn": {
   "10 per class, batch 32": {
    "mean": 0.03,
    "per_seed": [
     0.046,
     0.045,
     -0.001
    ],
    "se": 0.0155,
    "verdict": "within seed noise"
   },
   "10 per class, batch 8": {
    "mean": 0.0417,
    "per_seed": [
     0.064,
     0.025,
     0.036
    ],
    "se": 0.0116,
    "verdict": "suggestive"
   },
   "100 per class, batch 32": {
    "mean": 0.0063,
    "per_seed": [
     0.01,
     0.01,
     -0.001
    ],
    "se": 0.0037,
    "verdict": "within seed noise"
   },
   "100 per class, batch 8": {
    "mean": 0.0527,
    "per_seed": [
     0.058,
     -0.002,
     0.102
    ],
    "se": 0.0301,
    "verdict": "within seed noise"
   }
  },
  "conditions": {
   "epochs": 5,
   "image_size": 128,
   "test": 1000,
   "train": 4000,
   "validation": 1000
  },
  "high_lr": {
   "classes_predicted": [
    1,
    1,
    1
   ],
   "last_loss": [
    2.31,
    2.32,
    2.33
   ],
   "val_accuracy": [
    0.1,
    0.1,
    0.1
   ]
  },
  "label": "cpu, mobilenet_025",
  "lesson_gaps": [
   0.021,
   0.011,
   0.003
  ],
  "lesson_p": [
   0.05490881777576034,
   0.3425805825718988,
   0.8603106786164316
  ],
  "peak_mb": [
   1681,
   2441,
   3181
  ],
  "recipe_gaps": [
   0.052,
   0.055,
   0.055
  ],
  "recipe_p": [
   1.7548498975411193e-05,
   1.5383782558444767e-05,
   1.3508800264671567e-05
  ],
  "seeds": [
   0,
   1,
   2
  ],
  "test": {
   "course's fine-tuning": [
    0.7473,
    0.0013
   ],
   "feature extraction": [
    0.6933,
    0.0023
   ],
   "lesson's fine-tuning": [
    0.705,
    0.0074
   ]
  },
  "wall_s": [
   215.4,
   168.6,
   167.4
  ]
 }
}''')
