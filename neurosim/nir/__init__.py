"""NIR interchange: neurosim networks and trained results as NIR graphs, and back.

NIR (the Neuromorphic Intermediate Representation, package ``nir``) describes
a network as a graph of continuous-time neuron nodes and linear maps.  This
package reads and writes it in steps of ``dt``:

- :mod:`neurosim.nir.neurons`: NIR neuron nodes <-> ``lif_discrete``
  parameters (forward Euler by default, exact integration as an option);
- :mod:`neurosim.nir.timing`: when a spike arrives in the graph's discrete
  reading and in the engine, and the pipelining that reconciles them;
- :mod:`neurosim.nir.export`: a built network or a trained result -> graph;
- :mod:`neurosim.nir.paths` and :mod:`neurosim.nir.importer`: graph ->
  network config (YAML that ``neurosim run`` runs);
- :mod:`neurosim.nir.files`: reading and writing ``.nir`` files.
"""
